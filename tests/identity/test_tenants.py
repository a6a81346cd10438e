"""Creating tenants: built-in roles, the first owner, one-time credentials, audit."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from personae.db.engine import sessionmaker
from personae.db.tenancy import tenant_session
from personae.errors import ValidationFailed
from personae.identity.models import Permission, Role, RolePermission, TenantMember, UserRole
from personae.identity.password_checks import password_of
from personae.identity.service import create_tenant, sync_permissions
from personae.kernel.audit.models import AuditEvent
from personae.kernel.permissions import BUILTIN_ROLES, CATALOGUE


@pytest.fixture(scope="module")
async def sessions(
    owner_engine: AsyncEngine, app_engine: AsyncEngine
) -> async_sessionmaker[AsyncSession]:
    async with owner_engine.begin() as conn:
        await sync_permissions(conn)
        await sync_permissions(conn)  # idempotent
    return sessionmaker(app_engine)


async def test_new_tenant_has_builtin_roles_and_an_owner_with_one_time_password(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        created = await create_tenant(session, "  Acme Corp ", "Ana@Example.COM")
    assert created.tenant.name == "Acme Corp" and created.tenant.slug == "acme-corp"
    assert created.owner.email == "ana@example.com"
    assert created.one_time_password and len(created.one_time_password) >= 20
    assert created.one_time_password not in (created.owner.password_hash or "")
    async with sessions() as session:
        owner = await password_of(session, "ana@example.com", created.one_time_password)
        wrong = await password_of(session, "ana@example.com", "not the password")
    assert owner == created.owner.id and wrong is None

    async with tenant_session(sessions, created.tenant.id) as session:
        grants = (
            await session.execute(
                select(Role.name, Permission.name)
                .join(RolePermission, RolePermission.role_id == Role.id)
                .join(Permission, Permission.id == RolePermission.permission_id)
            )
        ).all()
        owner_role = (
            await session.execute(
                select(Role.name)
                .join(UserRole, UserRole.role_id == Role.id)
                .where(UserRole.user_id == created.owner.id)
            )
        ).scalar_one()
        members = (
            await session.execute(select(func.count()).select_from(TenantMember))
        ).scalar_one()
        events = (await session.execute(select(AuditEvent.event_type))).scalars().all()
    by_role: dict[str, set[str]] = {}
    for role, permission in grants:
        by_role.setdefault(role, set()).add(permission)
    assert by_role == {name: set(perms) for name, perms in BUILTIN_ROLES.items()}
    assert by_role["owner"] == set(CATALOGUE)
    assert owner_role == "owner" and members == 1
    assert sorted(events) == ["member.add", "tenant.create", "user.create"]


def test_builtin_roles_nest() -> None:
    owner, admin, member, viewer = (
        BUILTIN_ROLES[r] for r in ("owner", "admin", "member", "viewer")
    )
    assert viewer < member < admin < owner
    assert not any(
        p.endswith((":create", ":update", ":delete", ":write", ":manage")) for p in viewer
    )
    assert "members:manage" not in member and "secrets:reveal" not in member
    assert "secrets:reveal" in admin and "tenant:delete" not in admin


async def test_an_existing_user_joins_without_new_credentials(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        first = await create_tenant(session, "Beta", "bo@example.com")
    async with sessions() as session, session.begin():
        second = await create_tenant(session, "Beta", "BO@example.com")
    assert second.owner.id == first.owner.id
    assert second.one_time_password is None
    assert second.tenant.slug != first.tenant.slug and second.tenant.slug.startswith("beta-")


@pytest.mark.parametrize(
    ("name", "email", "field"),
    [
        ("", "a@example.com", "name"),
        ("x" * 256, "a@example.com", "name"),
        ("Ok", "not-an-email", "owner_email"),
        ("Ok", "a@b", "owner_email"),
    ],
)
async def test_bad_input_names_the_field_and_writes_nothing(
    sessions: async_sessionmaker[AsyncSession], name: str, email: str, field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        async with sessions() as session, session.begin():
            await create_tenant(session, name, email)
    assert caught.value.field == field
