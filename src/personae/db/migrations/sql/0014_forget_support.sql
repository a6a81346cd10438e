
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
  DELETE FROM relationships
  WHERE source_episode_ids && v_gone AND source_episode_ids <@ v_gone;
  UPDATE relationships
  SET source_episode_ids = ARRAY(SELECT s FROM unnest(source_episode_ids) AS s
                                 WHERE s <> ALL (v_gone))
  WHERE source_episode_ids && v_gone;
  RETURN NULL;
END
$$
