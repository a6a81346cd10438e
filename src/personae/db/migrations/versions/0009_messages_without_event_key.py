"""messages no longer reference their event by a foreign key

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24

A message is a view of one event, written by `personae_append_events` in the same
statement as the event itself, and erased with its session (messages → sessions still
cascades). The foreign key to `session_events` added nothing those guarantees don't, and
cost a lookup in the largest table per message; on a freshly grown log, whose statistics
are not yet gathered, that lookup was planned as a scan and appends slowed with the log.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FK = "fk_messages_tenant_id_event_id_session_events"


def upgrade() -> None:
    op.drop_constraint(FK, "messages", type_="foreignkey")


def downgrade() -> None:
    op.create_foreign_key(
        FK,
        "messages",
        "session_events",
        ["tenant_id", "event_id"],
        ["tenant_id", "id"],
        ondelete="CASCADE",
    )
