-- Facts follow their episodes: erased episodes take the facts only they supported,
-- and the learned entities nothing names any more.

CREATE OR REPLACE FUNCTION personae_forget_support() RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, public AS $$
DECLARE
  v_gone uuid[];
BEGIN
  SELECT array_agg(id) INTO v_gone FROM erased;
  IF v_gone IS NULL THEN
    RETURN NULL;
  END IF;
  -- First wait for the fact writes that hold what these episodes support (a write under
  -- way may cut such a fact short and record the rest anew, citing them): the statements
  -- below, each with a snapshot of its own, then see what it recorded.
  PERFORM FROM relationships WHERE source_episode_ids && v_gone FOR UPDATE;
  DELETE FROM relationships
  WHERE source_episode_ids && v_gone AND source_episode_ids <@ v_gone;
  UPDATE relationships
  SET source_episode_ids = ARRAY(SELECT s FROM unnest(source_episode_ids) AS s
                                 WHERE s <> ALL (v_gone))
  WHERE source_episode_ids && v_gone;
  DELETE FROM entities AS e
  WHERE e.learned AND e.tenant_id IN (SELECT DISTINCT tenant_id FROM erased)
    AND NOT EXISTS (SELECT FROM relationships AS r
                    WHERE r.tenant_id = e.tenant_id AND r.source_entity_id = e.id)
    AND NOT EXISTS (SELECT FROM relationships AS r
                    WHERE r.tenant_id = e.tenant_id AND r.target_entity_id = e.id)
    AND NOT EXISTS (SELECT FROM entity_mentions AS m
                    WHERE m.tenant_id = e.tenant_id AND m.entity_id = e.id)
    AND NOT EXISTS (SELECT FROM entity_document_associations AS a
                    WHERE a.tenant_id = e.tenant_id AND a.entity_id = e.id);
  RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER forget_support AFTER DELETE ON episodes
REFERENCING OLD TABLE AS erased FOR EACH STATEMENT
EXECUTE FUNCTION personae_forget_support();
