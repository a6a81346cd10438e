"""the session event log: append, derived views, notifications

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23

`personae_append_events` appends a batch of events to one session in one round trip:
it binds the tenant, locks the session (so `seq` stays gap-free), answers an idempotent
retry with the events first appended, checks `expected_seq`, inserts the events, writes
the derived messages and turn records and the envelope (computed in Python by
`sessions/derive.py` and passed in), records one audit event (unless `p_audit` is null: the caller audits), and notifies
`personae_session_events` with `<session id>:<last seq>` for live streams.

`personae_write_views` and `personae_apply_envelope` are the parts the rebuild shares.
The application role may not update `session_events`: the log is append-only.

Errors: P0002 (no such session), PC409 (expected_seq differs; DETAIL holds the last seq).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "personae_app"

WRITE_VIEWS = """
CREATE FUNCTION personae_write_views(p_tenant uuid, p_session uuid, p_rows jsonb)
RETURNS void LANGUAGE sql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, public AS $$
  INSERT INTO messages (tenant_id, session_id, event_id, seq, role, content, tool_calls,
                        tool_call_id, metadata)
  SELECT p_tenant, p_session, (r->>'event_id')::bigint, (r->>'seq')::bigint,
         r->'message'->>'role', coalesce(r->'message'->>'content', ''),
         nullif(r->'message'->'tool_calls', 'null'::jsonb),
         r->'message'->>'tool_call_id', coalesce(r->'message'->'metadata', '{}'::jsonb)
  FROM jsonb_array_elements(p_rows) AS r
  WHERE jsonb_typeof(r->'message') = 'object';

  INSERT INTO turn_records (tenant_id, session_id, run_id, turn_number, user_message,
                            assistant_response, context_extracted, rules_matched,
                            scenario_state, tools_executed, token_usage, latency_ms)
  SELECT p_tenant, p_session,
         (SELECT runs.id FROM runs WHERE runs.id = (t->>'run_id')::uuid),
         (t->>'turn_number')::int, t->>'user_message', t->>'assistant_response',
         nullif(t->'context_extracted', 'null'::jsonb),
         coalesce(nullif(t->'rules_matched', 'null'::jsonb), '[]'::jsonb),
         nullif(t->'scenario_state', 'null'::jsonb),
         coalesce(nullif(t->'tools_executed', 'null'::jsonb), '[]'::jsonb),
         nullif(t->'token_usage', 'null'::jsonb), (t->>'latency_ms')::int
  FROM jsonb_array_elements(p_rows) AS r, LATERAL (SELECT r->'turn' AS t) AS x
  WHERE jsonb_typeof(r->'turn') = 'object'
  ON CONFLICT (tenant_id, session_id, turn_number) DO UPDATE SET
    run_id = excluded.run_id, user_message = excluded.user_message,
    assistant_response = excluded.assistant_response,
    context_extracted = excluded.context_extracted, rules_matched = excluded.rules_matched,
    scenario_state = excluded.scenario_state, tools_executed = excluded.tools_executed,
    token_usage = excluded.token_usage, latency_ms = excluded.latency_ms;
$$
"""

APPLY_ENVELOPE = """
CREATE FUNCTION personae_apply_envelope(p_session uuid, p_patch jsonb, p_last_seq bigint,
                                        p_activity timestamptz)
RETURNS jsonb LANGUAGE sql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, public AS $$
  UPDATE sessions AS s SET
    last_seq = p_last_seq,
    last_activity_at = p_activity,
    updated_at = now(),
    title = CASE WHEN p_patch->'set' ? 'title' THEN p_patch->'set'->>'title' ELSE s.title END,
    status = CASE WHEN p_patch->'set' ? 'status' THEN p_patch->'set'->>'status'
                  ELSE s.status END,
    active_scenario_id = CASE WHEN p_patch->'set' ? 'active_scenario_id'
                              THEN (p_patch->'set'->>'active_scenario_id')::uuid
                              ELSE s.active_scenario_id END,
    active_scenario_version = CASE WHEN p_patch->'set' ? 'active_scenario_version'
                                   THEN (p_patch->'set'->>'active_scenario_version')::int
                                   ELSE s.active_scenario_version END,
    current_step_id = CASE WHEN p_patch->'set' ? 'current_step_id'
                           THEN p_patch->'set'->>'current_step_id'
                           ELSE s.current_step_id END,
    variables = s.variables || coalesce(p_patch->'variables', '{}'::jsonb),
    metadata = s.metadata || coalesce(p_patch->'metadata', '{}'::jsonb),
    step_history = s.step_history || coalesce(p_patch->'step_history', '[]'::jsonb)
  WHERE s.id = p_session
  RETURNING to_jsonb(s.*);
$$
"""

APPEND = """
CREATE FUNCTION personae_append_events(p_tenant uuid, p_session uuid, p_expected bigint,
                                       p_key text, p_events jsonb, p_patch jsonb,
                                       p_audit jsonb)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, public AS $$
DECLARE
  v_last bigint;
  v_count int := jsonb_array_length(p_events);
  v_events jsonb;
  v_rows jsonb;
  v_session jsonb;
BEGIN
  PERFORM set_config('personae.tenant_id', p_tenant::text, true);
  SELECT last_seq INTO v_last FROM sessions
  WHERE id = p_session AND deleted_at IS NULL FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no such session' USING ERRCODE = 'P0002';
  END IF;
  IF p_key IS NOT NULL THEN
    SELECT jsonb_agg(jsonb_build_object(
             'id', e.id, 'seq', e.seq, 'event_type', e.event_type,
             'schema_version', e.schema_version, 'payload', e.payload,
             'trace_id', e.trace_id, 'created_at', e.created_at) ORDER BY e.seq)
    INTO v_events FROM session_events AS e
    WHERE e.session_id = p_session
      AND left(e.idempotency_key, length(p_key) + 1) = p_key || '#';
    IF v_events IS NOT NULL THEN
      RETURN jsonb_build_object('replayed', true, 'events', v_events);
    END IF;
  END IF;
  IF p_expected IS NOT NULL AND p_expected <> v_last THEN
    RAISE EXCEPTION 'expected seq %, the session is at %', p_expected, v_last
      USING ERRCODE = 'PC409', DETAIL = v_last::text;
  END IF;

  WITH input AS (
    SELECT e, n FROM jsonb_array_elements(p_events) WITH ORDINALITY AS t(e, n)
  ), inserted AS (
    INSERT INTO session_events (tenant_id, session_id, seq, event_type, schema_version,
                                payload, idempotency_key, trace_id)
    SELECT p_tenant, p_session, v_last + n, e->>'event_type', (e->>'schema_version')::int,
           e->'payload', CASE WHEN p_key IS NULL THEN NULL ELSE p_key || '#' || n END,
           e->>'trace_id'
    FROM input
    RETURNING id, seq, event_type, schema_version, payload, trace_id, created_at
  )
  SELECT jsonb_agg(jsonb_build_object(
           'id', i.id, 'seq', i.seq, 'event_type', i.event_type,
           'schema_version', i.schema_version, 'payload', i.payload,
           'trace_id', i.trace_id, 'created_at', i.created_at) ORDER BY i.seq),
         jsonb_agg(jsonb_build_object('event_id', i.id, 'seq', i.seq,
                                      'message', input.e->'message', 'turn', input.e->'turn'))
  INTO v_events, v_rows
  FROM inserted AS i JOIN input ON v_last + input.n = i.seq;

  PERFORM personae_write_views(p_tenant, p_session, v_rows);
  v_session := personae_apply_envelope(p_session, p_patch, v_last + v_count, now());

  IF jsonb_typeof(p_audit) = 'object' THEN
  INSERT INTO audit_events (tenant_id, event_type, event_category, action, actor_type,
                            actor_id, user_id, resource_type, resource_id, description,
                            result, event_data, session_id, ip_address, trace_id)
  SELECT p_tenant, a.event_type, a.event_category, a.action, a.actor_type, a.actor_id,
         a.user_id, a.resource_type, p_session::text, a.description, a.result,
         a.event_data || jsonb_build_object('from_seq', v_last + 1,
                                            'to_seq', v_last + v_count),
         p_session, a.ip_address, a.trace_id
  FROM jsonb_populate_record(NULL::audit_events, p_audit) AS a;
  END IF;

  PERFORM pg_notify('personae_session_events', p_session::text || ':' || (v_last + v_count));
  RETURN jsonb_build_object('replayed', false, 'events', v_events, 'session', v_session);
END
$$
"""

FUNCTIONS = {
    "personae_write_views": "uuid, uuid, jsonb",
    "personae_apply_envelope": "uuid, jsonb, bigint, timestamptz",
    "personae_append_events": "uuid, uuid, bigint, text, jsonb, jsonb, jsonb",
}


def upgrade() -> None:
    for statement in (WRITE_VIEWS, APPLY_ENVELOPE, APPEND):
        op.execute(statement)
    for name, arguments in FUNCTIONS.items():
        op.execute(f"REVOKE ALL ON FUNCTION {name}({arguments}) FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {name}({arguments}) TO {APP_ROLE}")
    op.execute(f"REVOKE UPDATE ON session_events FROM {APP_ROLE}")


def downgrade() -> None:
    op.execute(f"GRANT UPDATE ON session_events TO {APP_ROLE}")
    for name, arguments in reversed(FUNCTIONS.items()):
        op.execute(f"DROP FUNCTION {name}({arguments})")
