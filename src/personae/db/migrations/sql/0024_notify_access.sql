-- A change to who may do what (users, sign-in sessions, members, roles) is
-- announced on `personae_access`, so access caches drop what they held.

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
$$;

CREATE OR REPLACE TRIGGER personae_notify_access
AFTER UPDATE OF is_active, deleted_at OR DELETE ON users
FOR EACH ROW EXECUTE FUNCTION personae_notify_access();

CREATE OR REPLACE TRIGGER personae_notify_access
AFTER UPDATE OF revoked_at OR DELETE ON auth_sessions
FOR EACH ROW EXECUTE FUNCTION personae_notify_access();

CREATE OR REPLACE TRIGGER personae_notify_access
AFTER INSERT OR UPDATE OR DELETE ON tenant_members
FOR EACH ROW EXECUTE FUNCTION personae_notify_access();

CREATE OR REPLACE TRIGGER personae_notify_access
AFTER INSERT OR UPDATE OR DELETE ON user_roles
FOR EACH ROW EXECUTE FUNCTION personae_notify_access();

CREATE OR REPLACE TRIGGER personae_notify_access
AFTER INSERT OR UPDATE OR DELETE ON role_permissions
FOR EACH ROW EXECUTE FUNCTION personae_notify_access();
