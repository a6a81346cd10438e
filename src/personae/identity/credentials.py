"""Changing a password (the user, signed in) and resetting one (the operator, by CLI).

Either way the new password is hashed as at sign-up, and sign-ins opened with the old one
end, in every tenant of the user: all of them on a reset, all but the caller's own on a
change. Each tenant the user belongs to gets the audit event."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from personae.db.tenancy import bind_tenant, tenant_session
from personae.errors import NotFound, Unauthorized, ValidationFailed
from personae.identity.auth import USER_TENANTS
from personae.identity.models import AuthSession, User
from personae.identity.password_checks import password_of
from personae.identity.passwords import MIN_LENGTH, generate_password, hash_password
from personae.kernel.audit.service import record
from personae.kernel.principal import Principal


async def change_password(
    sessions: async_sessionmaker[AsyncSession], principal: Principal, current: str, new: str
) -> None:
    """The signed-in user's password, from `current` to `new`; their other sign-ins end."""
    if principal.kind != "user" or principal.user_id is None or principal.session_id is None:
        raise Unauthorized("sign in as the user whose password this is")
    if len(new) < MIN_LENGTH:
        raise ValidationFailed(f"at least {MIN_LENGTH} characters", field="new_password")
    async with tenant_session(sessions, principal.tenant_id) as session:
        user = await _user(session, User.id == principal.user_id)
        if await password_of(session, user.email, current) != user.id:
            raise ValidationFailed("this is not the current password", field="current_password")
        if await password_of(session, user.email, new) == user.id:
            raise ValidationFailed("the new password is the current one", field="new_password")
        kept = (
            await session.execute(
                select(AuthSession.family_id).where(AuthSession.id == principal.session_id)
            )
        ).scalar_one()
        await _replace(session, user, new, "password_change", keep_family=kept)


async def reset_password(sessions: async_sessionmaker[AsyncSession], email: str) -> str:
    """A new one-time password for the account of `email` (for the operator to pass on);
    every sign-in of the account ends."""
    async with sessions() as session, session.begin():
        user = await _user(session, func.lower(User.email) == email.strip().lower())
        password = generate_password()
        await _replace(session, user, password, "password_reset", keep_family=None)
    return password


async def _user(session: AsyncSession, which: ColumnElement[bool]) -> User:
    user = (
        await session.execute(
            select(User).where(which, User.deleted_at.is_(None)).with_for_update()
        )
    ).scalar_one_or_none()
    if user is None:
        raise NotFound("no such account")
    return user


async def _replace(
    session: AsyncSession, user: User, password: str, action: str, keep_family: uuid.UUID | None
) -> None:
    user.password_hash = hash_password(password)
    now = datetime.now(UTC)
    tenants = [row.tenant_id for row in await session.execute(USER_TENANTS, {"user": user.id})]
    for tenant_id in tenants:
        await bind_tenant(session, tenant_id)
        ended = update(AuthSession).where(
            AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None)
        )
        if keep_family is not None:
            ended = ended.where(AuthSession.family_id != keep_family)
        await session.execute(ended.values(revoked_at=now, revoked_reason=action))
        principal = (  # the user themself, or the operator (a reset)
            Principal(kind="user", tenant_id=tenant_id, user_id=user.id)
            if keep_family is not None
            else Principal.system(tenant_id)
        )
        await record(session, principal, action, "user", user.id, category="access")
