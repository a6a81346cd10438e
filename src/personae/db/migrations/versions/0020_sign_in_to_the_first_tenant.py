"""a user's tenants in the order they joined them

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06

Signing in without naming a tenant now signs a member of several into the one they
joined first (an invitation accepted later no longer breaks a sign-in that names none), so
`personae_user_tenants` lists memberships in the order they began.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTION = """
CREATE OR REPLACE FUNCTION personae_user_tenants(p_user uuid)
RETURNS TABLE (tenant_id uuid, slug text, name text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public AS $$
  SELECT t.id, t.slug::text, t.name::text
  FROM tenant_members m JOIN tenants t ON t.id = m.tenant_id
  WHERE m.user_id = p_user AND m.status = 'active'
    AND t.active AND t.deleted_at IS NULL
  ORDER BY {order}
$$
"""


def upgrade() -> None:
    op.execute(FUNCTION.format(order="m.created_at, t.slug"))


def downgrade() -> None:
    op.execute(FUNCTION.format(order="t.slug"))
