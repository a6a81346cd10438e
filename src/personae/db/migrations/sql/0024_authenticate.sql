-- Bind the tenant and read, in one round trip, whether the sign-in session is live,
-- the user an active member, and the user's permissions.

CREATE OR REPLACE FUNCTION personae_authenticate(p_tenant uuid, p_session uuid, p_user uuid)
RETURNS TABLE (session_live boolean, member_active boolean, permissions text[])
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, public AS $$
BEGIN
  PERFORM set_config('personae.tenant_id', p_tenant::text, true);
  RETURN QUERY SELECT
    coalesce((SELECT s.revoked_at IS NULL FROM auth_sessions s WHERE s.id = p_session),
             false),
    EXISTS (
      SELECT 1 FROM tenant_members m JOIN users u ON u.id = m.user_id
      WHERE m.user_id = p_user AND m.status = 'active' AND u.is_active
        AND u.deleted_at IS NULL
    ),
    ARRAY(
      SELECT DISTINCT p.name::text FROM user_roles ur
      JOIN role_permissions rp ON rp.tenant_id = ur.tenant_id AND rp.role_id = ur.role_id
      JOIN permissions p ON p.id = rp.permission_id
      WHERE ur.user_id = p_user
    );
END
$$;

REVOKE ALL ON FUNCTION personae_authenticate(uuid, uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION personae_authenticate(uuid, uuid, uuid) TO personae_app;
