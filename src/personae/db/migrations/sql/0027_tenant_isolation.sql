-- tenant_isolation: every tenant-owned table (and partition) `{table}` sees and writes only
-- the rows of the tenant its transaction is bound to (`personae_current_tenant()`).
ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant_isolation ON {table};
CREATE POLICY tenant_isolation ON {table}
USING (tenant_id = personae_current_tenant())
WITH CHECK (tenant_id = personae_current_tenant());
