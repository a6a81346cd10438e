"""an idempotency key stored apart from its event's place in the batch

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06

The events of one idempotent append were stored with the key `<key>#<n>` and found by
prefix, so a later key `order` matched the events of an earlier `order#1` and its write
was answered as a replay and lost. The key is now stored as sent, with the event's place
in its batch in `idempotency_index`, and found by equality.

The function is migration 0018's, with these changes.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "uq_session_events_idempotency"
KEYED = sa.text("idempotency_key IS NOT NULL")


def _migration(name: str) -> ModuleType:
    path = Path(__file__).with_name(name)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _appending_0018() -> str:
    numbered = _migration("0018_turns_numbered_by_the_log.py")
    appending: str = numbered._changed(numbered._appending_0008())
    return appending


def _changed(appending: str) -> str:
    for anchor, replacement in (
        (
            "AND left(e.idempotency_key, length(p_key) + 1) = p_key || '#';",
            "AND e.idempotency_key = p_key;",
        ),
        (
            "payload, idempotency_key, trace_id)",
            "payload, idempotency_key, idempotency_index, trace_id)",
        ),
        (
            "e->'payload', CASE WHEN p_key IS NULL THEN NULL ELSE p_key || '#' || n END,",
            "e->'payload', p_key, CASE WHEN p_key IS NULL THEN NULL ELSE n END,",
        ),
    ):
        assert appending.count(anchor) == 1, anchor
        appending = appending.replace(anchor, replacement)
    return appending


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
    op.execute(_changed(_appending_0018()))


def downgrade() -> None:
    op.execute(_appending_0018())
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
