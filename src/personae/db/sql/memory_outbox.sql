-- New messages queue their session's remembering job (one waiting per session).

CREATE OR REPLACE FUNCTION personae_memory_outbox() RETURNS trigger
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
$$;

CREATE OR REPLACE TRIGGER memory_outbox AFTER INSERT ON messages
REFERENCING NEW TABLE AS added FOR EACH STATEMENT
EXECUTE FUNCTION personae_memory_outbox();
