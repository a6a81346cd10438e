"""External identities: a (provider, subject) pair (an SSO login, a chat account) → a user.

A pair belongs to one user at most. Linking is for the installation's operator (CLI) or a
sign-in flow that has verified the pair: a tenant's admin cannot link one, because the user
it names may belong to other tenants too. Users see and unlink their own."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from personae.db.tenancy import bind_tenant
from personae.errors import Conflict, NotFound
from personae.identity.auth import USER_TENANTS
from personae.identity.models import Identity, User
from personae.identity.service import normalise_email
from personae.kernel.audit.service import record
from personae.kernel.principal import Principal


async def link(
    session: AsyncSession,
    email: str,
    provider: str,
    subject: str,
    data: dict[str, Any] | None = None,
) -> Identity:
    """Link (provider, subject) to the user with `email`; 409 if another user holds it."""
    user = (
        await session.execute(select(User).where(User.email == normalise_email(email)))
    ).scalar_one_or_none()
    if user is None or user.deleted_at is not None:
        raise NotFound(f"no user with the email {email}")
    held = (
        await session.execute(
            select(Identity).where(Identity.provider == provider, Identity.subject == subject)
        )
    ).scalar_one_or_none()
    if held is not None and held.user_id != user.id:
        raise Conflict(f"{provider}:{subject} belongs to another user")
    if held is not None:
        held.identity_data = data or held.identity_data
        return held
    identity = Identity(
        user_id=user.id, provider=provider, subject=subject, identity_data=data or {}
    )
    session.add(identity)
    await session.flush()
    for membership in (await session.execute(USER_TENANTS, {"user": user.id})).all():
        await bind_tenant(session, membership.tenant_id)  # each of the user's tenants sees it
        await record(
            session,
            Principal.system(membership.tenant_id),
            "link",
            "identity",
            identity.id,
            data={"provider": provider, "user_id": str(user.id)},
        )
    return identity


async def resolve(session: AsyncSession, provider: str, subject: str) -> uuid.UUID | None:
    """The user behind a verified (provider, subject), noting its use; None if unlinked."""
    identity = (
        await session.execute(
            select(Identity).where(Identity.provider == provider, Identity.subject == subject)
        )
    ).scalar_one_or_none()
    if identity is None:
        return None
    identity.last_used_at = datetime.now(UTC)
    return identity.user_id


async def mine(session: AsyncSession, principal: Principal) -> list[Identity]:
    rows = await session.execute(
        select(Identity).where(Identity.user_id == principal.user_id).order_by(Identity.id)
    )
    return list(rows.scalars())


async def unlink_mine(session: AsyncSession, principal: Principal, identity_id: uuid.UUID) -> None:
    """Unlink one of the caller's own identities (404 for anyone else's)."""
    identity = (
        await session.execute(
            select(Identity).where(
                Identity.id == identity_id, Identity.user_id == principal.user_id
            )
        )
    ).scalar_one_or_none()
    if identity is None or principal.user_id is None:
        raise NotFound("no such identity")
    await session.delete(identity)
    await record(
        session, principal, "unlink", "identity", identity_id, data={"provider": identity.provider}
    )
