-- Create this month's and the coming months' partitions of a time-series table.

CREATE OR REPLACE FUNCTION personae_ensure_partitions(
    parent regclass, months_back integer DEFAULT 1, months_ahead integer DEFAULT 3
) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  first_month date := date_trunc('month', now() - make_interval(months => months_back))::date;
  month date;
  part text;
  tenant_owned boolean;
  created integer := 0;
BEGIN
  SELECT EXISTS (
    SELECT 1 FROM pg_attribute WHERE attrelid = parent AND attname = 'tenant_id' AND NOT attisdropped
  ) INTO tenant_owned;
  FOR i IN 0 .. months_back + months_ahead LOOP
    month := (first_month + make_interval(months => i))::date;
    part := format('%s_p%s', parent::text, to_char(month, 'YYYYMM'));
    IF to_regclass(part) IS NULL THEN
      EXECUTE format('CREATE TABLE %I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)',
                     part, parent, month, (month + interval '1 month')::date);
      IF tenant_owned THEN
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', part);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', part);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = personae_current_tenant()) '
                       'WITH CHECK (tenant_id = personae_current_tenant())', part);
      END IF;
      created := created + 1;
    END IF;
  END LOOP;
  RETURN created;
END;
$$;
