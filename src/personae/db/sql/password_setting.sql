-- A user's password hash settings (algorithm, parameters, salt) and digest length, by
-- email: enough to hash a candidate password, never the digest itself.

CREATE OR REPLACE FUNCTION personae_password_setting(p_email text)
RETURNS TABLE (user_id uuid, setting text, digest_bytes int)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public AS $$
  SELECT u.id, substring(u.password_hash FROM '^(.*)\$[^$]*$'),
         length(substring(u.password_hash FROM '\$([^$]*)$')) * 3 / 4
  FROM users AS u
  WHERE lower(u.email) = lower(btrim(p_email)) AND u.deleted_at IS NULL
$$;

REVOKE ALL ON FUNCTION personae_password_setting(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION personae_password_setting(text) TO personae_app;
