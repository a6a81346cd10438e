-- Whether a candidate digest is the user's: the application role compares hashes
-- here and never reads them.

CREATE OR REPLACE FUNCTION personae_password_matches(p_user uuid, p_hash text)
RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public AS $$
  SELECT coalesce(
    (SELECT u.password_hash = p_hash FROM users AS u
     WHERE u.id = p_user AND u.deleted_at IS NULL), false)
$$;

REVOKE ALL ON FUNCTION personae_password_matches(uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION personae_password_matches(uuid, text) TO personae_app;
