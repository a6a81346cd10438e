"""entities memory learned go when nothing is left that names them

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02

`entities.learned`: made by memory (a fact's subject or object, an extracted name), not
by a user. When episodes are erased, the facts they alone supported go (0014), and now
so does every learned entity that no fact, mention or document names any more: erasing
a conversation leaves no entity behind that only it had named.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EARLIER = """
CREATE OR REPLACE FUNCTION personae_forget_support() RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, public AS $$
DECLARE
  v_gone uuid[];
BEGIN
  SELECT array_agg(id) INTO v_gone FROM erased;
  IF v_gone IS NULL THEN
    RETURN NULL;
  END IF;
  DELETE FROM relationships
  WHERE source_episode_ids && v_gone AND source_episode_ids <@ v_gone;
  UPDATE relationships
  SET source_episode_ids = ARRAY(SELECT s FROM unnest(source_episode_ids) AS s
                                 WHERE s <> ALL (v_gone))
  WHERE source_episode_ids && v_gone;
  RETURN NULL;
END
$$
"""
"""0014's function, as it was."""

ORPHANS = """
  DELETE FROM entities AS e
  WHERE e.learned AND e.tenant_id IN (SELECT DISTINCT tenant_id FROM erased)
    AND NOT EXISTS (SELECT FROM relationships AS r
                    WHERE r.tenant_id = e.tenant_id AND r.source_entity_id = e.id)
    AND NOT EXISTS (SELECT FROM relationships AS r
                    WHERE r.tenant_id = e.tenant_id AND r.target_entity_id = e.id)
    AND NOT EXISTS (SELECT FROM entity_mentions AS m
                    WHERE m.tenant_id = e.tenant_id AND m.entity_id = e.id)
    AND NOT EXISTS (SELECT FROM entity_document_associations AS a
                    WHERE a.tenant_id = e.tenant_id AND a.entity_id = e.id);
"""
"""The learned entities nothing names any more, in the tenants whose episodes went."""
FORGET = EARLIER.replace("  RETURN NULL;\nEND", ORPHANS.lstrip("\n") + "  RETURN NULL;\nEND")
assert FORGET != EARLIER


def upgrade() -> None:
    op.add_column(
        "entities",
        sa.Column("learned", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.execute("CREATE INDEX ix_entities_learned ON entities (tenant_id) WHERE learned")
    op.execute(FORGET)


def downgrade() -> None:
    op.execute(EARLIER)
    op.execute("DROP INDEX ix_entities_learned")
    op.drop_column("entities", "learned")
