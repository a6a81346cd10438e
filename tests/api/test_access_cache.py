"""Cached access answers never outlive a change, whoever makes it and however."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from personae.db.engine import DatabaseUrls
from personae.identity.access_cache import AccessCache, AccessState
from personae.settings import Settings
from tests.api.conftest import bearer, running_app
from tests.waiting import eventually, soon

REVOKE_SESSIONS = text(
    "UPDATE auth_sessions SET revoked_at = now() FROM users "
    "WHERE users.id = auth_sessions.user_id AND users.email = :email"
)


async def status(client: httpx.AsyncClient, path: str, auth: dict[str, str]) -> int:
    return (await client.get(path, headers=auth)).status_code


async def test_a_revocation_in_sql_reaches_the_cache(
    urls: DatabaseUrls, owner_engine: AsyncEngine, fresh_owner: tuple[str, str]
) -> None:
    async with running_app(urls) as (app, client):
        auth = await bearer(client, *fresh_owner)
        for _ in range(3):  # the answer is cached now
            assert await status(client, "/v1/me", auth) == 200
        async with owner_engine.begin() as conn:  # another process, or an operator
            await conn.execute(REVOKE_SESSIONS, {"email": fresh_owner[0]})
        await eventually(lambda: _is(status(client, "/v1/me", auth), 401))
        assert app.state.services.listener.connected


async def test_a_role_change_in_sql_reaches_the_cache(
    urls: DatabaseUrls, owner_engine: AsyncEngine, fresh_owner: tuple[str, str]
) -> None:
    async with running_app(urls) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        assert await status(client, "/v1/audit", auth) == 200
        async with owner_engine.begin() as conn:
            await conn.execute(
                text(
                    "DELETE FROM user_roles USING users "
                    "WHERE users.id = user_roles.user_id AND users.email = :email"
                ),
                {"email": fresh_owner[0]},
            )
        await eventually(lambda: _is(status(client, "/v1/audit", auth), 403))


async def test_without_its_listening_connection_a_process_stops_trusting_its_cache(
    urls: DatabaseUrls, owner_engine: AsyncEngine, fresh_owner: tuple[str, str]
) -> None:
    async with running_app(urls) as (app, client):
        listener = app.state.services.listener
        auth = await bearer(client, *fresh_owner)
        assert await status(client, "/v1/me", auth) == 200
        pid = listener.backend_pid
        async with owner_engine.begin() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        await soon(lambda: listener.connected and listener.backend_pid != pid)
        assert await status(client, "/v1/me", auth) == 200
        async with owner_engine.begin() as conn:  # notifications flow again after reconnecting
            await conn.execute(
                text("UPDATE users SET is_active = false WHERE email = :email"),
                {"email": fresh_owner[0]},
            )
        await eventually(lambda: _is(status(client, "/v1/me", auth), 401))


async def test_with_the_cache_off_every_request_asks_the_database(
    urls: DatabaseUrls, owner_engine: AsyncEngine, fresh_owner: tuple[str, str]
) -> None:
    async with running_app(urls, Settings(access_cache_ttl_s=0)) as (app, client):
        auth = await bearer(client, *fresh_owner)
        assert await status(client, "/v1/me", auth) == 200
        await app.state.services.listener.stop()  # no notification can arrive now
        async with owner_engine.begin() as conn:
            await conn.execute(REVOKE_SESSIONS, {"email": fresh_owner[0]})
        assert await status(client, "/v1/me", auth) == 401


def test_answers_expire_and_stale_ones_are_not_kept() -> None:
    now = [0.0]
    cache = AccessCache(ttl_s=10, clock=lambda: now[0])
    key = (uuid.uuid4(), uuid.uuid4(), uuid.uuid4())
    state = AccessState(session_live=True, member_active=True, permissions=frozenset({"a:b"}))
    cache.put(key, state, cache.generation())
    assert cache.get(key) is None  # not listening yet: nothing is kept
    cache.reset(listening=True)
    cache.put(key, state, cache.generation())
    assert cache.get(key) == state
    now[0] = 10.0
    assert cache.get(key) is None  # expired
    before = cache.generation()
    cache.changed(str(uuid.uuid4()))  # a change arrived while the query ran
    cache.put(key, state, before)
    assert cache.get(key) is None
    cache.put(key, state, cache.generation())
    cache.changed(str(key[0]))
    assert cache.get(key) is None
    cache.put(key, state, cache.generation())
    cache.reset(listening=False)
    assert cache.get(key) is None


async def _is(value: Awaitable[int], expected: int) -> bool:
    return await value == expected
