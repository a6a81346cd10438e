-- The vault's wrapped data keys: the application role reads them only through here.

CREATE OR REPLACE FUNCTION personae_vault_keys()
RETURNS TABLE (version smallint, wrapped_key bytea, nonce bytea, master_fingerprint text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public AS $$
  SELECT k.version, k.wrapped_key, k.nonce, k.master_fingerprint::text
  FROM vault_keys AS k ORDER BY k.version
$$;

REVOKE ALL ON FUNCTION personae_vault_keys() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION personae_vault_keys() TO personae_app;
