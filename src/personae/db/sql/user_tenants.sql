-- The tenants a user may sign in to, first joined first: the one narrow read across
-- tenants (SECURITY DEFINER).

CREATE OR REPLACE FUNCTION personae_user_tenants(p_user uuid)
RETURNS TABLE (tenant_id uuid, slug text, name text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public AS $$
  SELECT t.id, t.slug::text, t.name::text
  FROM tenant_members m JOIN tenants t ON t.id = m.tenant_id
  WHERE m.user_id = p_user AND m.status = 'active'
    AND t.active AND t.deleted_at IS NULL
  ORDER BY m.created_at, t.slug
$$;

REVOKE ALL ON FUNCTION personae_user_tenants(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION personae_user_tenants(uuid) TO personae_app;
