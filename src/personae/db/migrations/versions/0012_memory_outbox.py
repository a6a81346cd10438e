"""messages queue their memory work in the transaction that writes them

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24

Every statement that inserts user or assistant messages (an append, a rebuild) queues the
job `remember_session` for each session it touched, in the same transaction: the job row
is the outbox, committed with the messages or not at all. At most one such job waits per
session (`queueing_lock`: a second one is not added, as `jobs.defer_in(once=True)` does),
and they run one at a time per session (`lock`).

A TURN episode is unique per source event, so a job that runs twice (a worker killed
after its commit, say) writes nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OUTBOX = """
CREATE FUNCTION personae_memory_outbox() RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, public AS $$
BEGIN
  INSERT INTO procrastinate_jobs (queue_name, task_name, priority, lock, queueing_lock, args)
  SELECT 'memory', 'remember_session', 0, 'memory:' || s.session_id, 'memory:' || s.session_id,
         jsonb_build_object('tenant_id', s.tenant_id, 'session_id', s.session_id)
  FROM (SELECT DISTINCT tenant_id, session_id FROM added
        WHERE role IN ('user', 'assistant') AND content <> '') AS s
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END
$$
"""

TRIGGER = """
CREATE TRIGGER memory_outbox AFTER INSERT ON messages
REFERENCING NEW TABLE AS added FOR EACH STATEMENT
EXECUTE FUNCTION personae_memory_outbox()
"""


def upgrade() -> None:
    op.execute(OUTBOX)
    op.execute(TRIGGER)
    op.execute(
        "CREATE UNIQUE INDEX uq_episodes_turn_source ON episodes "
        "(tenant_id, session_id, (source_event_ids[1])) WHERE episode_type = 'TURN'"
    )


def downgrade() -> None:
    op.execute("DROP INDEX uq_episodes_turn_source")
    op.execute("DROP TRIGGER memory_outbox ON messages")
    op.execute("DROP FUNCTION personae_memory_outbox()")
