"""facts expire in place

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07

A fact cut short by a newer one is expired (`expired_at` set) and what still holds of it
recorded anew. That update could never be a heap-only one: `ix_relationships_current`
named `expired_at` in its predicate, and full pages left no room beside the row. So each
expiry wrote a new entry into all nine indexes, the HNSW graph among them, and left it
behind for every later insert to walk past. The index served no query (each reads a
subject's facts through `idx_relationships_source` or its target's; none asks for
`valid_to IS NULL` alone); it goes, and pages keep 30% free (a row with its vector is
~1.8 kB: room for one expiry a page of three). In bench/memory.py's facts part, 374 of
400 expiries became heap-only, and the UPDATE left the request's top costs.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_relationships_current", table_name="relationships")
    op.execute("ALTER TABLE relationships SET (fillfactor = 70)")


def downgrade() -> None:
    op.execute("ALTER TABLE relationships RESET (fillfactor)")
    op.execute(
        "CREATE INDEX ix_relationships_current ON relationships "
        "(tenant_id, source_entity_id, relationship_type) "
        "WHERE expired_at IS NULL AND valid_to IS NULL"
    )
