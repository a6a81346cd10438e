"""Sign-in, refresh rotation with reuse detection, sign-out, and bearer tokens."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from personae.db.engine import sessionmaker
from personae.db.tenancy import tenant_session
from personae.errors import Unauthorized
from personae.identity.auth import WRONG_CREDENTIALS, Authenticator, delete_expired_sessions
from personae.identity.models import AuthSession
from personae.identity.service import create_tenant, sync_permissions
from personae.identity.tokens import AccessClaims, issue_access, read_access, signing_key
from personae.kernel.audit.models import AuditEvent
from personae.kernel.permissions import BUILTIN_ROLES
from personae.kernel.principal import Principal
from personae.settings import Settings
from personae.vault.crypto import new_key


@dataclass
class People:
    auth: Authenticator
    key: bytes
    sessions: async_sessionmaker[AsyncSession]
    ana_password: str
    bob_password: str
    acme: uuid.UUID
    acme_slug: str
    beta_slug: str
    bob_tenant: uuid.UUID


@pytest.fixture(scope="module")
async def people(owner_engine: AsyncEngine, app_engine: AsyncEngine) -> People:
    async with owner_engine.begin() as conn:
        await sync_permissions(conn)
    sessions = sessionmaker(app_engine)
    async with sessions() as session, session.begin():
        acme = await create_tenant(session, "Acme", "ana@example.com")
    async with sessions() as session, session.begin():
        beta = await create_tenant(session, "Beta", "ana@example.com")
    async with sessions() as session, session.begin():
        gamma = await create_tenant(session, "Gamma", "bob@example.com")
    assert acme.one_time_password and gamma.one_time_password
    key = signing_key(new_key())
    return People(
        Authenticator(sessions, key, Settings()),
        key,
        sessions,
        acme.one_time_password,
        gamma.one_time_password,
        acme.tenant.id,
        acme.tenant.slug,
        beta.tenant.slug,
        gamma.tenant.id,
    )


async def _principal(people: People, access_token: str) -> Principal:
    async with people.sessions() as session, session.begin():
        return await people.auth.principal(session, access_token)


async def _events(people: People, tenant: uuid.UUID) -> list[tuple[str, str | None]]:
    async with tenant_session(people.sessions, tenant) as session:
        rows = (await session.execute(select(AuditEvent.event_type, AuditEvent.result))).all()
    return [(row.event_type, row.result) for row in rows]


async def test_wrong_password_and_unknown_email_look_the_same(people: People) -> None:
    for email, password in [("bob@example.com", "wrong-password"), ("nobody@x.io", "whatever")]:
        with pytest.raises(Unauthorized) as caught:
            await people.auth.login(email, password)
        assert caught.value.detail == WRONG_CREDENTIALS
    assert ("auth.login", "failure") in await _events(people, people.bob_tenant)


async def test_a_member_of_several_tenants_signs_in_to_the_first_unless_naming_one(
    people: People,
) -> None:
    first = await people.auth.login("ana@example.com", people.ana_password)
    assert first.tenant_id == people.acme  # joined first
    named = await people.auth.login("ana@example.com", people.ana_password, tenant=people.beta_slug)
    assert named.tenant_id != people.acme
    with pytest.raises(Unauthorized):
        await people.auth.login("ana@example.com", people.ana_password, tenant="not-hers")


async def test_login_gives_a_principal_with_the_roles_permissions(people: People) -> None:
    pair = await people.auth.login("ANA@example.com", people.ana_password, tenant=people.acme_slug)
    assert pair.tenant_id == people.acme and pair.expires_in == 900
    principal = await _principal(people, pair.access_token)
    assert principal.tenant_id == people.acme and principal.kind == "user"
    assert principal.permissions == BUILTIN_ROLES["owner"]
    assert ("auth.login", "success") in await _events(people, people.acme)


async def test_refresh_rotates_and_reuse_revokes_the_whole_family(people: People) -> None:
    first = await people.auth.login("bob@example.com", people.bob_password)
    second = await people.auth.refresh(first.refresh_token)
    assert second.refresh_token != first.refresh_token
    third = await people.auth.refresh(second.refresh_token)
    assert (await _principal(people, third.access_token)).user_id == first.user_id

    with pytest.raises(Unauthorized, match="already used"):
        await people.auth.refresh(first.refresh_token)  # a stolen, replayed token
    with pytest.raises(Unauthorized, match="revoked"):
        await people.auth.refresh(third.refresh_token)
    with pytest.raises(Unauthorized, match="signed out"):
        await _principal(people, third.access_token)
    assert ("auth.refresh_reuse", "family_revoked") in await _events(people, people.bob_tenant)


async def test_logout_revokes_access_and_refresh(people: People) -> None:
    pair = await people.auth.login("bob@example.com", people.bob_password)
    principal = await _principal(people, pair.access_token)
    await people.auth.logout(principal)
    with pytest.raises(Unauthorized):
        await _principal(people, pair.access_token)
    with pytest.raises(Unauthorized):
        await people.auth.refresh(pair.refresh_token)
    assert ("auth.logout", "success") in await _events(people, people.bob_tenant)


async def test_expired_forged_and_moved_tokens_are_refused(people: People) -> None:
    pair = await people.auth.login("bob@example.com", people.bob_password)
    principal = await _principal(people, pair.access_token)
    assert principal.session_id is not None
    expired = issue_access(
        people.key,
        AccessClaims(pair.user_id, pair.tenant_id, principal.session_id, int(time.time()) - 5),
    )
    with pytest.raises(Unauthorized, match="expired"):
        await _principal(people, expired)
    short = issue_access(
        people.key,
        AccessClaims(pair.user_id, pair.tenant_id, principal.session_id, int(time.time()) + 1),
    )
    assert (await _principal(people, short)).user_id == pair.user_id  # verified, remembered
    await asyncio.sleep(max(0.0, read_access(people.key, short).expires_at - time.time()) + 0.01)
    with pytest.raises(Unauthorized, match="expired"):  # remembered, yet expired
        await _principal(people, short)
    forged = issue_access(
        signing_key(new_key()),
        AccessClaims(pair.user_id, pair.tenant_id, principal.session_id, int(time.time()) + 60),
    )
    with pytest.raises(Unauthorized, match="not valid"):
        await _principal(people, forged)
    with pytest.raises(Unauthorized, match="not valid"):
        await _principal(people, pair.access_token[:-2] + "xx")
    moved = pair.refresh_token.replace(pair.tenant_id.hex, people.acme.hex)
    with pytest.raises(Unauthorized, match="not valid"):
        await people.auth.refresh(moved)
    with pytest.raises(Unauthorized, match="not valid"):
        await people.auth.refresh("prt_garbage")


async def test_cleanup_deletes_only_long_expired_or_revoked_sessions(
    people: People, owner_engine: AsyncEngine
) -> None:
    live = await people.auth.login("bob@example.com", people.bob_password)
    old = await people.auth.login("bob@example.com", people.bob_password)
    old_principal = await _principal(people, old.access_token)
    async with owner_engine.begin() as conn:
        await conn.execute(
            update(AuthSession)
            .where(AuthSession.id == old_principal.session_id)
            .values(expires_at=datetime.now(UTC) - timedelta(days=3))
        )
    deleted = await delete_expired_sessions(people.sessions)
    assert deleted >= 1
    assert (await _principal(people, live.access_token)).user_id == live.user_id
    with pytest.raises(Unauthorized):
        await _principal(people, old.access_token)  # its session row is gone
