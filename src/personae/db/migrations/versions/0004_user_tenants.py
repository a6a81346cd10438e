"""a user's tenants, for sign-in

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

Signing in must find the tenants a user belongs to before any tenant is bound, which
row-level security rightly forbids the application role. `personae_user_tenants(user)`
answers exactly that and nothing more; it runs as the owner (SECURITY DEFINER), with a
SELECT policy on `tenant_members` for the owner alone, so it works where the owner is not
a superuser too.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "personae_app"


def upgrade() -> None:
    op.execute(
        "CREATE POLICY owner_lookup ON tenant_members FOR SELECT TO CURRENT_USER USING (true)"
    )
    op.execute(
        """
        CREATE FUNCTION personae_user_tenants(p_user uuid)
        RETURNS TABLE (tenant_id uuid, slug text, name text)
        LANGUAGE sql STABLE SECURITY DEFINER
        SET search_path = pg_catalog, public AS $$
          SELECT t.id, t.slug::text, t.name::text
          FROM tenant_members m JOIN tenants t ON t.id = m.tenant_id
          WHERE m.user_id = p_user AND m.status = 'active'
            AND t.active AND t.deleted_at IS NULL
          ORDER BY t.slug
        $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION personae_user_tenants(uuid) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION personae_user_tenants(uuid) TO {APP_ROLE}")


def downgrade() -> None:
    op.execute("DROP FUNCTION personae_user_tenants(uuid)")
    op.execute("DROP POLICY owner_lookup ON tenant_members")
