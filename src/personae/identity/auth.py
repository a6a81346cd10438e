"""Signing in and out, refresh-token rotation, and turning a bearer token into a Principal.

Refresh tokens form families: each refresh uses up one token and issues its successor.
Presenting a used-up token again means it was stolen (or replayed), so the whole family
is revoked and every token in it stops working."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from personae.db.statements import rowcount
from personae.db.tenancy import bind_each_transaction, bind_tenant, every_tenant, tenant_session
from personae.errors import Unauthorized
from personae.identity.access_cache import AccessCache, AccessState
from personae.identity.models import AuthSession, User
from personae.identity.password_checks import password_of
from personae.identity.tokens import (
    REFRESH_PREFIX,
    AccessClaims,
    issue_access,
    new_opaque,
    parse_opaque,
    read_access,
    same_digest,
)
from personae.kernel.audit.service import record
from personae.kernel.principal import Principal
from personae.settings import Settings

WRONG_CREDENTIALS = "wrong email or password"
USER_TENANTS = text("SELECT tenant_id, slug, name FROM personae_user_tenants(:user)")
AUTHENTICATE = text(
    "SELECT session_live, member_active, permissions "
    "FROM personae_authenticate(:tenant, :session, :user)"
)
"""Binds the tenant (SET LOCAL semantics) and reads the caller's state: one round trip."""


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    tenant_id: uuid.UUID
    user_id: uuid.UUID


class Authenticator:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        signing_key: bytes,
        settings: Settings,
        cache: AccessCache | None = None,
    ) -> None:
        self._sessions = sessions
        self._cache = cache or AccessCache(ttl_s=0)
        self._key = signing_key
        self._access_ttl = settings.access_token_ttl_s
        self._refresh_ttl = timedelta(seconds=settings.refresh_token_ttl_s)

    async def login(
        self,
        email: str,
        password: str,
        *,
        tenant: str | None = None,
        ip_address: str | None = None,
        user_agent: str | None = None,
    ) -> TokenPair:
        """Check the password, choose the tenant (`tenant`, a slug or id; else the one the
        user joined first), open a session family."""
        async with self._sessions() as session, session.begin():
            user = (
                await session.execute(
                    select(User).where(
                        func.lower(User.email) == email.strip().lower(),
                        User.deleted_at.is_(None),
                    )
                )
            ).scalar_one_or_none()
            matched = await password_of(session, email, password)
            password_ok = user is not None and matched == user.id
            memberships = (
                (await session.execute(USER_TENANTS, {"user": user.id})).all() if user else []
            )
            chosen = [m for m in memberships if tenant in (None, m.slug, str(m.tenant_id))]
            if user is None or not user.is_active or not password_ok or not chosen:
                if user is not None and len(chosen) == 1:
                    await self._record_failure(session, chosen[0].tenant_id, user.id, ip_address)
                    await session.commit()
                raise Unauthorized(WRONG_CREDENTIALS)
            tenant_id = chosen[0].tenant_id  # none named: the one joined first
            await bind_tenant(session, tenant_id)
            user.last_login_at = datetime.now(UTC)
            pair = await self._open(
                session, tenant_id, user.id, uuid.uuid4(), ip_address, user_agent
            )
            principal = Principal(
                kind="user", tenant_id=tenant_id, user_id=user.id, ip_address=ip_address
            )
            await record(session, principal, "login", "auth", user.id, category="access")
            return pair

    async def refresh(
        self, refresh_token: str, *, ip_address: str | None = None, user_agent: str | None = None
    ) -> TokenPair:
        """Use up a refresh token and issue its successor; a reused one revokes the family."""
        token = parse_opaque(REFRESH_PREFIX, refresh_token)
        async with tenant_session(self._sessions, token.tenant_id) as session:
            row = (
                await session.execute(
                    select(AuthSession).where(AuthSession.id == token.token_id).with_for_update()
                )
            ).scalar_one_or_none()
            if row is None or not same_digest(row.token_hash, token.digest):
                raise Unauthorized("the refresh token is not valid")
            now = datetime.now(UTC)
            principal = Principal(
                kind="user", tenant_id=row.tenant_id, user_id=row.user_id, ip_address=ip_address
            )
            if row.revoked_at is not None:
                raise Unauthorized("the refresh token has been revoked; sign in again")
            if row.used_at is not None:
                await self._revoke_family(session, row.family_id, "reuse", now)
                await record(
                    session,
                    principal,
                    "refresh_reuse",
                    "auth",
                    row.family_id,
                    category="error",
                    result="family_revoked",
                )
                await session.commit()
                raise Unauthorized("the refresh token was already used; sign in again")
            if row.expires_at <= now:
                raise Unauthorized("the refresh token has expired; sign in again")
            row.used_at = now
            pair = await self._open(
                session, row.tenant_id, row.user_id, row.family_id, ip_address, user_agent
            )
            await record(session, principal, "refresh", "auth", row.family_id, category="access")
            return pair

    async def logout(self, principal: Principal) -> None:
        """Revoke the signed-in session family: its access and refresh tokens stop working."""
        if principal.session_id is None:
            raise Unauthorized("only a signed-in session can sign out")
        async with tenant_session(self._sessions, principal.tenant_id) as session:
            family = (
                await session.execute(
                    select(AuthSession.family_id).where(AuthSession.id == principal.session_id)
                )
            ).scalar_one()
            await self._revoke_family(session, family, "logout", datetime.now(UTC))
            await record(session, principal, "logout", "auth", principal.user_id, category="access")

    async def principal(
        self, session: AsyncSession, access_token: str, *, ip_address: str | None = None
    ) -> Principal:
        """Verify a bearer token; the caller's state comes from the cache or the database.

        Binds `session`'s transactions to the token's tenant."""
        claims = read_access(self._key, access_token)
        key = (claims.tenant_id, claims.session_id, claims.user_id)
        state = self._cache.get(key)
        if state is None:
            generation = self._cache.generation()
            row = (
                await session.execute(
                    AUTHENTICATE,
                    {"tenant": key[0], "session": key[1], "user": key[2]},
                )
            ).one()
            state = AccessState(row.session_live, row.member_active, frozenset(row.permissions))
            self._cache.put(key, state, generation)
        bind_each_transaction(session, claims.tenant_id)
        if not state.session_live:
            raise Unauthorized("the session has been signed out; sign in again")
        if not state.member_active:
            raise Unauthorized("the account is not active in this tenant")
        return Principal(
            kind="user",
            tenant_id=claims.tenant_id,
            user_id=claims.user_id,
            session_id=claims.session_id,
            permissions=state.permissions,
            ip_address=ip_address,
        )

    async def _open(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        user_id: uuid.UUID,
        family_id: uuid.UUID,
        ip_address: str | None,
        user_agent: str | None,
    ) -> TokenPair:
        row_id = uuid.uuid4()
        refresh = new_opaque(REFRESH_PREFIX, tenant_id, row_id)
        now = datetime.now(UTC)
        session.add(
            AuthSession(
                id=row_id,
                tenant_id=tenant_id,
                user_id=user_id,
                family_id=family_id,
                token_hash=refresh.digest,
                ip_address=ip_address,
                user_agent=user_agent,
                expires_at=now + self._refresh_ttl,
            )
        )
        await session.flush()
        expires_at = int(time.time()) + self._access_ttl
        access = issue_access(self._key, AccessClaims(user_id, tenant_id, row_id, expires_at))
        return TokenPair(access, str(refresh), self._access_ttl, tenant_id, user_id)

    async def _revoke_family(
        self, session: AsyncSession, family_id: uuid.UUID, reason: str, now: datetime
    ) -> None:
        await session.execute(
            update(AuthSession)
            .where(AuthSession.family_id == family_id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=now, revoked_reason=reason)
        )

    async def _record_failure(
        self, session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID, ip: str | None
    ) -> None:
        await bind_tenant(session, tenant_id)
        principal = Principal(kind="user", tenant_id=tenant_id, user_id=user_id, ip_address=ip)
        await record(
            session, principal, "login", "auth", user_id, category="access", result="failure"
        )


async def delete_expired_sessions(
    sessions: async_sessionmaker[AsyncSession], *, grace: timedelta = timedelta(days=1)
) -> int:
    """Delete sign-in sessions expired (or revoked) more than `grace` ago, tenant by tenant.

    Run periodically (`personae auth cleanup`; a scheduled job once the queue lands)."""
    cutoff = datetime.now(UTC) - grace
    deleted = 0
    for tenant_id in await every_tenant(sessions):
        async with tenant_session(sessions, tenant_id) as session:
            result = await session.execute(
                delete(AuthSession).where(
                    (AuthSession.expires_at < cutoff) | (AuthSession.revoked_at < cutoff)
                )
            )
            deleted += rowcount(result)
    return deleted
