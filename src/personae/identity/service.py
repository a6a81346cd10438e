"""Tenants and their first owner; the permission catalogue in the database."""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from personae.db.tenancy import bind_tenant
from personae.errors import ValidationFailed
from personae.identity.models import (
    Permission,
    Role,
    RolePermission,
    Tenant,
    TenantMember,
    User,
    UserRole,
)
from personae.identity.passwords import generate_password, hash_password
from personae.kernel.audit.service import record
from personae.kernel.permissions import BUILTIN_ROLES, CATALOGUE, describe
from personae.kernel.principal import Principal

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
MAX_NAME = 255


@dataclass(frozen=True)
class TenantCreated:
    tenant: Tenant
    owner: User
    one_time_password: str | None
    """Set only when the owner's account was created now; shown once, stored hashed."""


def normalise_email(email: str, *, field: str = "email") -> str:
    value = email.strip().lower()
    if not EMAIL.match(value) or len(value) > 255:
        raise ValidationFailed(f"{email!r} is not an email address", field=field)
    return value


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:50]
    return slug or "tenant"


async def sync_permissions(conn: AsyncConnection) -> None:
    """Make the `permissions` table match the catalogue in code (as the owner, at start)."""
    rows = [
        {
            "name": p,
            "resource": p.split(":")[0],
            "action": p.split(":")[1],
            "description": describe(p),
        }
        for p in CATALOGUE
    ]
    statement = pg_insert(Permission).values(rows)
    await conn.execute(
        statement.on_conflict_do_update(
            index_elements=["name"], set_={"description": statement.excluded.description}
        )
    )


async def create_tenant(session: AsyncSession, name: str, owner_email: str) -> TenantCreated:
    """A tenant with its built-in roles and an owner (an existing user joins; a new one gets
    a one-time password). Binds `session`'s transaction to the new tenant."""
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise ValidationFailed("a tenant name has 1 to 255 characters", field="name")
    email = normalise_email(owner_email, field="owner_email")

    slug = slugify(name)
    taken = (
        await session.execute(
            select(func.count()).where(Tenant.slug == slug, Tenant.deleted_at.is_(None))
        )
    ).scalar_one()
    if taken:
        slug = f"{slug}-{secrets.token_hex(3)}"
    tenant = Tenant(name=name, slug=slug)
    session.add(tenant)
    await session.flush()
    await bind_tenant(session, tenant.id)
    principal = Principal.system(tenant.id)

    roles = await _create_builtin_roles(session, tenant.id)
    owner = (
        await session.execute(
            select(User).where(func.lower(User.email) == email, User.deleted_at.is_(None))
        )
    ).scalar_one_or_none()
    password = None
    if owner is None:
        password = generate_password()
        owner = User(email=email, password_hash=hash_password(password))
        session.add(owner)
        await session.flush()
        await record(session, principal, "create", "user", owner.id, data={"email": email})
    session.add(TenantMember(tenant_id=tenant.id, user_id=owner.id))
    session.add(UserRole(tenant_id=tenant.id, user_id=owner.id, role_id=roles["owner"]))
    await session.flush()
    await record(
        session, principal, "create", "tenant", tenant.id, data={"name": name, "slug": slug}
    )
    await record(session, principal, "add", "member", owner.id, data={"role": "owner"})
    return TenantCreated(tenant=tenant, owner=owner, one_time_password=password)


async def _create_builtin_roles(
    session: AsyncSession, tenant_id: uuid.UUID
) -> dict[str, uuid.UUID]:
    rows = (await session.execute(select(Permission.name, Permission.id))).all()
    permission_ids = {name: permission_id for name, permission_id in rows}
    missing = set(CATALOGUE) - set(permission_ids)
    if missing:
        raise RuntimeError(f"permissions catalogue not synchronised: {sorted(missing)[:3]}")
    ids = {}
    for role_name, grants in BUILTIN_ROLES.items():
        role = Role(
            tenant_id=tenant_id,
            name=role_name,
            is_builtin=True,
            description=f"built-in {role_name}",
        )
        session.add(role)
        await session.flush()
        ids[role_name] = role.id
        session.add_all(
            RolePermission(tenant_id=tenant_id, role_id=role.id, permission_id=permission_ids[p])
            for p in sorted(grants)
        )
    await session.flush()
    return ids
