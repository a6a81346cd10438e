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

The function is migration 0008's, with these two changes.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNNUMBERED = "e->>'event_type' = 'turn.completed' AND NOT (e->'payload' ? 'turn_number')"

NUMBERING = f"""
  IF EXISTS (SELECT 1 FROM jsonb_array_elements(p_events) AS t(e) WHERE {UNNUMBERED}) THEN
    SELECT coalesce(max(turn_number), 0) INTO v_turns
    FROM turn_records WHERE session_id = p_session;
    SELECT jsonb_agg(CASE WHEN x.unnumbered THEN
             jsonb_set(jsonb_set(x.e, '{{payload,turn_number}}', to_jsonb(v_turns + x.rank)),
                       '{{turn,turn_number}}', to_jsonb(v_turns + x.rank))
             ELSE x.e END ORDER BY x.n)
    INTO p_events
    FROM (SELECT e, n, {UNNUMBERED} AS unnumbered,
                 count(*) FILTER (WHERE {UNNUMBERED}) OVER (ORDER BY n) AS rank
          FROM jsonb_array_elements(p_events) WITH ORDINALITY AS t(e, n)) AS x;
  END IF;

  WITH input AS ("""


def _appending_0008() -> str:
    """Migration 0008's `personae_append_events`, as it created it."""
    path = Path(__file__).with_name("0008_session_event_log.py")
    spec = importlib.util.spec_from_file_location("migration_0008", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    appending: str = module.APPEND
    return appending.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)


def _changed(appending: str) -> str:
    for anchor, added in (
        ("  v_session jsonb;\n", "  v_session jsonb;\n  v_turns int;\n"),
        ("\n  WITH input AS (", NUMBERING),
        (
            "a.resource_type, p_session::text,",
            "a.resource_type, coalesce(a.resource_id, p_session::text),",
        ),
    ):
        assert appending.count(anchor) == 1, anchor
        appending = appending.replace(anchor, added)
    return appending


def upgrade() -> None:
    op.execute(_changed(_appending_0008()))


def downgrade() -> None:
    op.execute(_appending_0008())
