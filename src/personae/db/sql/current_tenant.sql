-- The tenant the transaction is bound to (`SET LOCAL personae.tenant_id`): every
-- row-level security policy compares with it.

CREATE OR REPLACE FUNCTION personae_current_tenant() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT NULLIF(current_setting('personae.tenant_id', true), '')::uuid
$$;
