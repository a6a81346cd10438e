-- tenant_isolation for the rules' phrasings and fires: each sees and writes only the rows
-- of the tenant its transaction is bound to (`personae_current_tenant()`).
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['rule_phrasings', 'rule_fires'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON %I', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I '
            'USING (tenant_id = personae_current_tenant()) '
            'WITH CHECK (tenant_id = personae_current_tenant())',
            t
        );
    END LOOP;
END
$$;
