"""turns numbered by the log; an append's audit event about another resource

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03

A `turn.completed` event may leave out its `turn_number`: `personae_append_events` then
gives it the session's next (one more than its last turn record; several in one batch,
one after the other), while it holds the session's row, so turns of one session that end
at once never take the same number. The stored event and its turn record both hold it.

The audit event an append records (`p_audit`) keeps the resource it names, if it names
one (a run's start is audited as the run's, with the message that starts it); the session
otherwise, as before.

The function is migration 0008's with these two changes (frozen copies of both are in
`db/migrations/sql/`).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from personae.db.migrate import frozen

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(frozen("0018_append_events.sql"))


def downgrade() -> None:
    op.execute(frozen("0008_append_events.sql"))
