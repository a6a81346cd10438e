-- Write the rows that events imply (messages, turn records) for the appended events.

CREATE OR REPLACE FUNCTION personae_write_views(p_tenant uuid, p_session uuid, p_rows jsonb)
RETURNS void LANGUAGE sql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, public AS $$
  INSERT INTO messages (tenant_id, session_id, event_id, seq, role, content, tool_calls,
                        tool_call_id, metadata, created_at)
  SELECT p_tenant, p_session, (r->>'event_id')::bigint, (r->>'seq')::bigint,
         r->'message'->>'role', coalesce(r->'message'->>'content', ''),
         nullif(r->'message'->'tool_calls', 'null'::jsonb),
         r->'message'->>'tool_call_id', coalesce(r->'message'->'metadata', '{}'::jsonb),
         coalesce((r->'message'->>'created_at')::timestamptz, now())
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
$$;

REVOKE ALL ON FUNCTION personae_write_views(uuid, uuid, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION personae_write_views(uuid, uuid, jsonb) TO personae_app;
