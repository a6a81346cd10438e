-- Fold an append's changes into the session's row (title, status, scenario, step, pending
-- migration, variables, metadata, step history, last seq), as `sessions/derive.py`
-- computes them.

CREATE OR REPLACE FUNCTION personae_apply_envelope(p_session uuid, p_patch jsonb, p_last_seq bigint,
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
    pending_migration = CASE WHEN p_patch->'set' ? 'pending_migration'
                             THEN nullif(p_patch->'set'->'pending_migration', 'null'::jsonb)
                             ELSE s.pending_migration END,
    variables = s.variables || coalesce(p_patch->'variables', '{}'::jsonb),
    metadata = s.metadata || coalesce(p_patch->'metadata', '{}'::jsonb),
    step_history = s.step_history || coalesce(p_patch->'step_history', '[]'::jsonb)
  WHERE s.id = p_session
  RETURNING to_jsonb(s.*);
$$;

REVOKE ALL ON FUNCTION personae_apply_envelope(uuid, jsonb, bigint, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION personae_apply_envelope(uuid, jsonb, bigint, timestamptz) TO personae_app;
