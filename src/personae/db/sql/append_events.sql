-- Append a batch of events to a session's log in one round trip: idempotent by key,
-- numbered by the session's row lock, its state derived, its views written, audited.

CREATE OR REPLACE FUNCTION personae_append_events(p_tenant uuid, p_session uuid, p_expected bigint,
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
  v_turns int;
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
      AND e.idempotency_key = p_key;
    IF v_events IS NOT NULL THEN
      RETURN jsonb_build_object('replayed', true, 'events', v_events);
    END IF;
  END IF;
  IF p_expected IS NOT NULL AND p_expected <> v_last THEN
    RAISE EXCEPTION 'expected seq %, the session is at %', p_expected, v_last
      USING ERRCODE = 'PC409', DETAIL = v_last::text;
  END IF;

  IF EXISTS (SELECT 1 FROM jsonb_array_elements(p_events) AS t(e) WHERE e->>'event_type' = 'turn.completed' AND NOT (e->'payload' ? 'turn_number')) THEN
    SELECT coalesce(max(turn_number), 0) INTO v_turns
    FROM turn_records WHERE session_id = p_session;
    SELECT jsonb_agg(CASE WHEN x.unnumbered THEN
             jsonb_set(jsonb_set(x.e, '{payload,turn_number}', to_jsonb(v_turns + x.rank)),
                       '{turn,turn_number}', to_jsonb(v_turns + x.rank))
             ELSE x.e END ORDER BY x.n)
    INTO p_events
    FROM (SELECT e, n, e->>'event_type' = 'turn.completed' AND NOT (e->'payload' ? 'turn_number') AS unnumbered,
                 count(*) FILTER (WHERE e->>'event_type' = 'turn.completed' AND NOT (e->'payload' ? 'turn_number')) OVER (ORDER BY n) AS rank
          FROM jsonb_array_elements(p_events) WITH ORDINALITY AS t(e, n)) AS x;
  END IF;

  WITH input AS (
    SELECT e, n FROM jsonb_array_elements(p_events) WITH ORDINALITY AS t(e, n)
  ), inserted AS (
    INSERT INTO session_events (tenant_id, session_id, seq, event_type, schema_version,
                                payload, idempotency_key, idempotency_index, trace_id)
    SELECT p_tenant, p_session, v_last + n, e->>'event_type', (e->>'schema_version')::int,
           e->'payload', p_key, CASE WHEN p_key IS NULL THEN NULL ELSE n END,
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
         a.user_id, a.resource_type, coalesce(a.resource_id, p_session::text), a.description, a.result,
         a.event_data || jsonb_build_object('from_seq', v_last + 1,
                                            'to_seq', v_last + v_count),
         p_session, a.ip_address, a.trace_id
  FROM jsonb_populate_record(NULL::audit_events, p_audit) AS a;
  END IF;

  PERFORM pg_notify('personae_session_events', p_session::text || ':' || (v_last + v_count));
  RETURN jsonb_build_object('replayed', false, 'events', v_events, 'session', v_session);
END
$$;

REVOKE ALL ON FUNCTION personae_append_events(uuid, uuid, bigint, text, jsonb, jsonb, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION personae_append_events(uuid, uuid, bigint, text, jsonb, jsonb, jsonb) TO personae_app;
