"""bind a tenant and read a principal's state in one round trip

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23

`personae_authenticate(tenant, session, user)` sets `personae.tenant_id` for the current
transaction (like SET LOCAL) and returns whether the sign-in session is live, whether the
user is an active member, and the user's permissions. It runs as the caller (SECURITY
INVOKER), so row-level security applies to its reads as to any other query.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "personae_app"


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION personae_authenticate(p_tenant uuid, p_session uuid, p_user uuid)
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
        $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION personae_authenticate(uuid, uuid, uuid) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION personae_authenticate(uuid, uuid, uuid) TO {APP_ROLE}")


def downgrade() -> None:
    op.execute("DROP FUNCTION personae_authenticate(uuid, uuid, uuid)")
