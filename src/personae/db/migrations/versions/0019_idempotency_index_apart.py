"""an idempotency key stored apart from its event's place in the batch

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06

The events of one idempotent append were stored with the key `<key>#<n>` and found by
prefix, so a later key `order` matched the events of an earlier `order#1` and its write
was answered as a replay and lost. The key is now stored as sent, with the event's place
in its batch in `idempotency_index`, and found by equality.

The function is migration 0018's with these changes (frozen copies of both are in
`db/migrations/sql/`).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from personae.db.migrate import frozen

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "uq_session_events_idempotency"
KEYED = sa.text("idempotency_key IS NOT NULL")


def upgrade() -> None:
    op.add_column("session_events", sa.Column("idempotency_index", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE session_events SET "
        "idempotency_index = substring(idempotency_key FROM '#([0-9]+)$')::int, "
        "idempotency_key = substring(idempotency_key FROM '^(.*)#[0-9]+$') "
        "WHERE idempotency_key ~ '#[0-9]+$'"
    )
    op.drop_index(INDEX, table_name="session_events")
    op.create_index(
        INDEX,
        "session_events",
        ["tenant_id", "session_id", "idempotency_key", "idempotency_index"],
        unique=True,
        postgresql_where=KEYED,
    )
    op.execute(frozen("0019_append_events.sql"))


def downgrade() -> None:
    op.execute(frozen("0018_append_events.sql"))
    op.drop_index(INDEX, table_name="session_events")
    op.execute(
        "UPDATE session_events SET idempotency_key = idempotency_key || '#' || idempotency_index "
        "WHERE idempotency_index IS NOT NULL"
    )
    op.drop_column("session_events", "idempotency_index")
    op.create_index(
        INDEX,
        "session_events",
        ["tenant_id", "session_id", "idempotency_key"],
        unique=True,
        postgresql_where=KEYED,
    )
