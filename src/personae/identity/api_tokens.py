"""API tokens for machines: shown once, stored as a digest, scoped, expiring, revocable.

A token acts with its scopes, never more than its creator may still do."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from personae.db.tenancy import bind_tenant
from personae.db.types import uuid7
from personae.errors import NotFound, Unauthorized, ValidationFailed
from personae.identity.auth import AUTHENTICATE
from personae.identity.models import ApiToken
from personae.identity.tokens import API_TOKEN_PREFIX, new_opaque, parse_opaque, same_digest
from personae.kernel.audit.service import record
from personae.kernel.permissions import expand
from personae.kernel.principal import Principal

MAX_TTL_DAYS = 3650


async def create_api_token(
    session: AsyncSession,
    principal: Principal,
    *,
    name: str,
    scopes: list[str],
    expires_in_days: int | None = None,
) -> tuple[ApiToken, str]:
    """A new token and its text (returned this once only)."""
    principal.require("tokens:create")
    scopes = expand(scopes)
    principal.check_grantable(scopes, field="scopes")
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_TTL_DAYS:
        raise ValidationFailed(f"1 to {MAX_TTL_DAYS} days", field="expires_in_days")
    token_id = uuid7()
    token = new_opaque(API_TOKEN_PREFIX, principal.tenant_id, token_id)
    row = ApiToken(
        tenant_id=principal.tenant_id,
        id=token_id,
        name=name,
        user_id=principal.user_id,
        token_prefix=str(token)[:12],
        token_hash=token.digest,
        scopes=sorted(set(scopes)),
        expires_at=(
            datetime.now(UTC) + timedelta(days=expires_in_days) if expires_in_days else None
        ),
    )
    session.add(row)
    await session.flush()
    await record(
        session, principal, "create", "token", token_id, data={"name": name, "scopes": row.scopes}
    )
    return row, str(token)


async def list_api_tokens(session: AsyncSession, principal: Principal) -> list[ApiToken]:
    principal.require("tokens:read")
    rows = await session.execute(select(ApiToken).order_by(ApiToken.id.desc()))
    return list(rows.scalars())


async def revoke_api_token(
    session: AsyncSession, principal: Principal, token_id: uuid.UUID
) -> None:
    principal.require("tokens:revoke")
    row = (
        await session.execute(select(ApiToken).where(ApiToken.id == token_id))
    ).scalar_one_or_none()
    if row is None:
        raise NotFound("no such token")
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        await record(session, principal, "revoke", "token", token_id, data={"name": row.name})


async def token_principal(
    session: AsyncSession, token_text: str, *, ip_address: str | None = None
) -> Principal:
    """Check an API token, bind `session` to its tenant, and audit its use."""
    token = parse_opaque(API_TOKEN_PREFIX, token_text)
    await bind_tenant(session, token.tenant_id)
    row = (
        await session.execute(select(ApiToken).where(ApiToken.id == token.token_id))
    ).scalar_one_or_none()
    if row is None or not same_digest(row.token_hash, token.digest):
        raise Unauthorized("the token is not valid")
    now = datetime.now(UTC)
    if row.revoked_at is not None:
        raise Unauthorized("the token has been revoked")
    if row.expires_at is not None and row.expires_at <= now:
        raise Unauthorized("the token has expired")
    permissions = frozenset(row.scopes)
    if row.user_id is not None:  # never more than its creator may still do
        creator = (
            await session.execute(
                AUTHENTICATE, {"tenant": row.tenant_id, "session": None, "user": row.user_id}
            )
        ).one()
        permissions &= frozenset(creator.permissions if creator.member_active else ())
    principal = Principal(
        kind="token",
        tenant_id=row.tenant_id,
        token_id=row.id,
        user_id=row.user_id,
        permissions=permissions,
        ip_address=ip_address,
        scopes=frozenset(row.scopes),
    )
    row.last_used_at = now
    await record(session, principal, "use", "token", row.id, category="access")
    await session.flush()
    return principal
