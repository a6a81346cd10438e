-- tenant_isolation for the scenarios' phrasings: each transaction sees and writes only the
-- rows of the tenant it is bound to (`personae_current_tenant()`).
ALTER TABLE scenario_phrasings ENABLE ROW LEVEL SECURITY;
ALTER TABLE scenario_phrasings FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant_isolation ON scenario_phrasings;
CREATE POLICY tenant_isolation ON scenario_phrasings
USING (tenant_id = personae_current_tenant())
WITH CHECK (tenant_id = personae_current_tenant());
