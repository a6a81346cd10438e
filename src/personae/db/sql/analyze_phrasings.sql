-- The planner's statistics of the phrasing tables, refreshed right after a large import:
-- until autovacuum comes by, the planner takes a table that just grew from a handful of
-- rows to thousands for the handful, and scans it all on every turn. The application role
-- may not ANALYZE; this runs as the owner, on these two tables only. (Their statistics
-- are not shown to the application role: `pg_stats` hides tables under row security.)

CREATE OR REPLACE FUNCTION personae_analyze_phrasings()
RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, public AS $$
BEGIN
  ANALYZE public.rule_phrasings;
  ANALYZE public.scenario_phrasings;
END;
$$;

REVOKE ALL ON FUNCTION personae_analyze_phrasings() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION personae_analyze_phrasings() TO personae_app;
