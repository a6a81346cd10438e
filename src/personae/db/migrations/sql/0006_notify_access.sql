
        CREATE OR REPLACE FUNCTION personae_notify_access() RETURNS trigger
        LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
        BEGIN
          IF TG_TABLE_NAME = 'users' THEN
            PERFORM pg_notify('personae_access', '*');
          ELSIF TG_OP = 'DELETE' THEN
            PERFORM pg_notify('personae_access', OLD.tenant_id::text);
          ELSE
            PERFORM pg_notify('personae_access', NEW.tenant_id::text);
          END IF;
          RETURN NULL;
        END
        $$
        