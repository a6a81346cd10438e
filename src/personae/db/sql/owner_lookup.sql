-- owner_lookup: the owner role (which `personae_user_tenants` runs as) may read every
-- tenant's memberships; the application role still sees its own tenant's only.
DROP POLICY IF EXISTS owner_lookup ON tenant_members;
CREATE POLICY owner_lookup ON tenant_members FOR SELECT TO CURRENT_USER USING (true);
