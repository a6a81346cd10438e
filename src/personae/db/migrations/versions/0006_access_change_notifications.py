"""notify listeners when anything that decides access changes

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23

Processes cache what `personae_authenticate` answers. Any change to sign-in sessions,
memberships, role grants or users sends `NOTIFY personae_access` with the tenant id (or
`*` for a user, who may belong to several tenants), so every process drops what it cached,
whoever made the change: the API, the CLI, or SQL typed by an operator.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGGERS = {
    "auth_sessions": "UPDATE OF revoked_at OR DELETE",
    "tenant_members": "INSERT OR UPDATE OR DELETE",
    "user_roles": "INSERT OR UPDATE OR DELETE",
    "role_permissions": "INSERT OR UPDATE OR DELETE",
    "users": "UPDATE OF is_active, deleted_at OR DELETE",
}
"""What each table fires on: only the columns that change an access decision."""


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION personae_notify_access() RETURNS trigger
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
        """
    )
    for table, events in TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER personae_notify_access AFTER {events} ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION personae_notify_access()"
        )


def downgrade() -> None:
    for table in TRIGGERS:
        op.execute(f"DROP TRIGGER personae_notify_access ON {table}")
    op.execute("DROP FUNCTION personae_notify_access()")
