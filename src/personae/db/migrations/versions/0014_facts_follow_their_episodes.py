"""facts follow the episodes that support them out

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-24

Whatever deletes episodes (a session's erasure cascading to them, an episode deleted
through the API, a persona's deletion), the facts they alone supported go with them, and
the others no longer name them as support: a statement trigger on `episodes`.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FORGET = """
CREATE FUNCTION personae_forget_support() RETURNS trigger
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

TRIGGER = """
CREATE TRIGGER forget_support AFTER DELETE ON episodes
REFERENCING OLD TABLE AS erased FOR EACH STATEMENT
EXECUTE FUNCTION personae_forget_support()
"""


def upgrade() -> None:
    op.execute(FORGET)
    op.execute(TRIGGER)
    op.execute(
        "CREATE INDEX ix_relationships_support ON relationships USING gin (source_episode_ids)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_relationships_support")
    op.execute("DROP TRIGGER forget_support ON episodes")
    op.execute("DROP FUNCTION personae_forget_support()")
