"""Members, their roles, custom roles, and invitations (expiring, single use).

Nobody grants more than they hold: a role given or created must be within the granter's
own permissions. A tenant always keeps at least one owner."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from personae.db.tenancy import tenant_session
from personae.db.types import uuid7
from personae.errors import Conflict, NotFound, Unauthorized, ValidationFailed
from personae.identity.models import (
    OrganizationInvitation,
    Permission,
    Role,
    RolePermission,
    TenantMember,
    User,
    UserRole,
)
from personae.identity.passwords import MIN_LENGTH, hash_password
from personae.identity.service import normalise_email
from personae.identity.tokens import new_opaque, parse_opaque, same_digest
from personae.kernel.audit.service import record
from personae.kernel.principal import Principal

INVITATION_PREFIX = "piv"
INVITATION_TTL = timedelta(days=7)


@dataclass(frozen=True)
class MemberView:
    user_id: uuid.UUID
    email: str
    status: str
    roles: list[str]


async def _role_permissions(session: AsyncSession, role_ids: list[uuid.UUID]) -> set[str]:
    rows = await session.execute(
        select(Permission.name)
        .join(RolePermission, RolePermission.permission_id == Permission.id)
        .where(RolePermission.role_id.in_(role_ids))
    )
    return set(rows.scalars())


async def _roles_by_name(session: AsyncSession, names: list[str], field: str) -> list[Role]:
    roles = list((await session.execute(select(Role).where(Role.name.in_(names)))).scalars())
    unknown = sorted(set(names) - {r.name for r in roles})
    if unknown:
        raise ValidationFailed(f"no such roles: {', '.join(unknown)}", field=field)
    return roles


async def _grantable(
    session: AsyncSession, principal: Principal, roles: list[Role], field: str
) -> None:
    granted = await _role_permissions(session, [r.id for r in roles])
    principal.check_grantable(granted, field=field)


async def create_role(
    session: AsyncSession,
    principal: Principal,
    name: str,
    permissions: list[str],
    description: str | None = None,
) -> Role:
    principal.require("roles:manage")
    principal.check_grantable(permissions, field="permissions")
    exists = (await session.execute(select(func.count()).where(Role.name == name))).scalar_one()
    if exists:
        raise Conflict(f"a role named {name!r} exists")
    role = Role(tenant_id=principal.tenant_id, name=name, description=description)
    session.add(role)
    await session.flush()
    ids = dict(
        (
            await session.execute(
                select(Permission.name, Permission.id).where(Permission.name.in_(permissions))
            )
        ).all()
    )
    session.add_all(
        RolePermission(tenant_id=principal.tenant_id, role_id=role.id, permission_id=ids[p])
        for p in sorted(set(permissions))
    )
    await record(
        session,
        principal,
        "create",
        "role",
        role.id,
        data={"name": name, "permissions": sorted(set(permissions))},
    )
    return role


async def list_roles(session: AsyncSession, principal: Principal) -> list[tuple[Role, list[str]]]:
    principal.require("roles:read")
    roles = list((await session.execute(select(Role).order_by(Role.name))).scalars())
    grants = await session.execute(
        select(RolePermission.role_id, Permission.name).join(
            Permission, Permission.id == RolePermission.permission_id
        )
    )
    by_role: dict[uuid.UUID, list[str]] = {}
    for role_id, permission in grants.all():
        by_role.setdefault(role_id, []).append(permission)
    return [(role, sorted(by_role.get(role.id, []))) for role in roles]


async def list_members(session: AsyncSession, principal: Principal) -> list[MemberView]:
    principal.require("members:read")
    rows = (
        await session.execute(
            select(TenantMember.user_id, User.email, TenantMember.status, Role.name)
            .join(User, User.id == TenantMember.user_id)
            .outerjoin(UserRole, UserRole.user_id == TenantMember.user_id)
            .outerjoin(Role, Role.id == UserRole.role_id)
            .order_by(User.email, Role.name)
        )
    ).all()
    members: dict[uuid.UUID, MemberView] = {}
    for user_id, email, status, role in rows:
        view = members.setdefault(user_id, MemberView(user_id, email, status, []))
        if role:
            view.roles.append(role)
    return list(members.values())


async def set_member_roles(
    session: AsyncSession, principal: Principal, user_id: uuid.UUID, role_names: list[str]
) -> MemberView:
    principal.require("members:manage")
    member = (
        await session.execute(select(TenantMember).where(TenantMember.user_id == user_id))
    ).scalar_one_or_none()
    if member is None:
        raise NotFound("no such member")
    roles = await _roles_by_name(session, role_names, "roles")
    await _grantable(session, principal, roles, "roles")
    current = list(
        (
            await session.execute(
                select(Role)
                .join(UserRole, UserRole.role_id == Role.id)
                .where(UserRole.user_id == user_id)
            )
        ).scalars()
    )
    await _grantable(session, principal, current, "roles")  # nor take away what you lack
    if "owner" in {r.name for r in current} and "owner" not in role_names:
        owners = (
            await session.execute(
                select(func.count())
                .select_from(UserRole)
                .join(Role, Role.id == UserRole.role_id)
                .where(Role.name == "owner")
            )
        ).scalar_one()
        if owners <= 1:
            raise Conflict("a tenant keeps at least one owner")
    await session.execute(delete(UserRole).where(UserRole.user_id == user_id))
    session.add_all(
        UserRole(
            tenant_id=principal.tenant_id,
            user_id=user_id,
            role_id=r.id,
            granted_by=principal.user_id,
        )
        for r in roles
    )
    await record(
        session, principal, "set_roles", "member", user_id, data={"roles": sorted(role_names)}
    )
    email = (await session.execute(select(User.email).where(User.id == user_id))).scalar_one()
    return MemberView(user_id, email, member.status, sorted(role_names))


async def invite(
    session: AsyncSession, principal: Principal, email: str, role_name: str
) -> tuple[OrganizationInvitation, str]:
    principal.require("invitations:create")
    address = normalise_email(email)
    [role] = await _roles_by_name(session, [role_name], "role")
    await _grantable(session, principal, [role], "role")
    invitation_id = uuid7()
    token = new_opaque(INVITATION_PREFIX, principal.tenant_id, invitation_id)
    row = OrganizationInvitation(
        tenant_id=principal.tenant_id,
        id=invitation_id,
        email=address,
        role_id=role.id,
        token_hash=token.digest,
        invited_by=principal.user_id,
        expires_at=datetime.now(UTC) + INVITATION_TTL,
    )
    session.add(row)
    await session.flush()
    await record(
        session,
        principal,
        "create",
        "invitation",
        row.id,
        data={"email": address, "role": role_name},
    )
    return row, str(token)


async def accept_invitation(
    sessions: async_sessionmaker[AsyncSession],
    token_text: str,
    password: str | None,
    signed_in: uuid.UUID | None = None,
) -> tuple[uuid.UUID, uuid.UUID]:
    """Join the tenant; returns (tenant, user). An invitation to an email with no account
    creates one with `password`; one to an existing account is accepted by that account
    only, signed in (`signed_in`, its user id): holding the token is not consent."""
    token = parse_opaque(INVITATION_PREFIX, token_text)
    async with tenant_session(sessions, token.tenant_id) as session:
        row = (
            await session.execute(
                select(OrganizationInvitation)
                .where(OrganizationInvitation.id == token.token_id)
                .with_for_update()
            )
        ).scalar_one_or_none()
        now = datetime.now(UTC)
        if row is None or not same_digest(row.token_hash, token.digest):
            raise Unauthorized("the invitation is not valid")
        if row.accepted_at or row.revoked_at or row.expires_at <= now:
            raise Unauthorized("the invitation has been used, revoked or has expired")
        user = (
            await session.execute(
                select(User).where(func.lower(User.email) == row.email, User.deleted_at.is_(None))
            )
        ).scalar_one_or_none()
        if signed_in is None and (password is None or len(password) < MIN_LENGTH):
            raise ValidationFailed(  # the same whether the account exists or not
                f"a password of {MIN_LENGTH} characters or more for a new account; or, if "
                "the invited email has an account, sign in as it and accept again",
                field="password",
            )
        if user is not None and signed_in != user.id:
            raise Unauthorized(
                "this invitation is for an existing account: sign in as it, then accept "
                "with its access token"
            )
        if user is None:
            if password is None or len(password) < MIN_LENGTH:
                raise ValidationFailed(
                    f"a new account needs a password of {MIN_LENGTH} characters or more",
                    field="password",
                )
            user = User(email=row.email, password_hash=hash_password(password))
            session.add(user)
            await session.flush()
        already = (
            await session.execute(select(func.count()).where(TenantMember.user_id == user.id))
        ).scalar_one()
        if not already:
            session.add(TenantMember(tenant_id=row.tenant_id, user_id=user.id))
            session.add(
                UserRole(
                    tenant_id=row.tenant_id,
                    user_id=user.id,
                    role_id=row.role_id,
                    granted_by=row.invited_by,
                )
            )
        row.accepted_at = now
        principal = Principal(kind="user", tenant_id=row.tenant_id, user_id=user.id)
        await record(session, principal, "accept", "invitation", row.id, data={"email": row.email})
        return row.tenant_id, user.id


async def require_member(session: AsyncSession, user_id: uuid.UUID, field: str) -> None:
    """Refuse a user who is not a member of the bound tenant (422 on `field`)."""
    found = await session.execute(select(TenantMember.id).where(TenantMember.user_id == user_id))
    if found.first() is None:
        raise ValidationFailed("not a member of this tenant", field=field)
