"""/healthz, /readyz, the OpenAPI document, and errors as problem+json."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from personae.db import migrate
from personae.db.engine import DatabaseUrls
from tests.api.conftest import ClientFactory
from tests.serving import free_port

PROBLEM = "application/problem+json"


async def test_healthz_reports_versions_and_migration(
    urls: DatabaseUrls, api_client: ClientFactory
) -> None:
    async with api_client(urls) as client:
        response = await client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["postgres"].startswith("18")
    assert body["pgvector"].startswith("0.8")
    assert body["migration"] == {"current": migrate.head(), "head": migrate.head()}


async def test_readyz_is_200_at_head(urls: DatabaseUrls, api_client: ClientFactory) -> None:
    async with api_client(urls) as client:
        response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "migration": migrate.head()}


async def test_readyz_is_503_while_migrations_are_pending(
    new_database: Callable[[], DatabaseUrls], api_client: ClientFactory
) -> None:
    behind = await asyncio.to_thread(new_database)
    await asyncio.to_thread(migrate.downgrade, behind.owner, "0001")
    try:
        async with api_client(behind, prepare=False) as client:
            ready = await client.get("/readyz")
            health = await client.get("/healthz")
    finally:
        await asyncio.to_thread(migrate.upgrade, behind.owner)
    assert ready.status_code == 503
    assert ready.headers["content-type"] == PROBLEM
    assert ready.json()["title"] == "Migrations pending"
    assert ready.json()["current"] == "0001"
    assert health.status_code == 200
    assert health.json()["migration"]["current"] == "0001"


async def test_unreachable_database_is_503_not_500(api_client: ClientFactory) -> None:
    url = f"postgresql+asyncpg://nobody@127.0.0.1:{free_port()}/personae"
    async with api_client(DatabaseUrls(owner=url, app=url), prepare=False) as client:
        ready = await client.get("/readyz")
        health = await client.get("/healthz")
    for response in (ready, health):
        assert response.status_code == 503
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["title"] == "Database unreachable"


async def test_unknown_route_and_method_are_problems(
    urls: DatabaseUrls, api_client: ClientFactory
) -> None:
    async with api_client(urls) as client:
        missing = await client.get("/v1/nothing-here")
        wrong_method = await client.delete("/healthz")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM
    assert missing.json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "Not Found",
    }
    assert wrong_method.status_code == 405
    assert wrong_method.headers["content-type"] == PROBLEM


async def test_openapi_and_docs_are_served(urls: DatabaseUrls, api_client: ClientFactory) -> None:
    async with api_client(urls) as client:
        spec = await client.get("/openapi.json")
        docs = await client.get("/docs")
    assert spec.status_code == 200
    assert {"/healthz", "/readyz"} <= set(spec.json()["paths"])
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
