"""entities are found by name and alias, whatever the case, through indexes

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-24

Resolving a name (`memory.resolution`) compares lower-cased names, canonical names and
aliases; without indexes on those forms every lookup read all the tenant's entities.
`personae_folded` lower-cases an array, immutably, so it can be indexed.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FOLDED = """
CREATE FUNCTION personae_folded(names text[]) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
SET search_path = pg_catalog AS $$
  SELECT coalesce(array_agg(lower(n)), '{}') FROM unnest(names) AS n
$$
"""


def upgrade() -> None:
    op.execute(FOLDED)
    op.execute("CREATE INDEX ix_entities_folded_name ON entities (tenant_id, lower(name))")
    op.execute(
        "CREATE INDEX ix_entities_folded_canonical ON entities (tenant_id, lower(canonical_name)) "
        "WHERE canonical_name IS NOT NULL"
    )
    op.execute(
        "CREATE INDEX ix_entities_folded_aliases ON entities USING gin (personae_folded(aliases))"
    )


def downgrade() -> None:
    for index in (
        "ix_entities_folded_aliases",
        "ix_entities_folded_canonical",
        "ix_entities_folded_name",
    ):
        op.execute(f"DROP INDEX {index}")
    op.execute("DROP FUNCTION personae_folded(text[])")
