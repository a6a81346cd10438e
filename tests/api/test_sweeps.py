"""Sweeps over every route of the API (walked from its OpenAPI document):

1. tenant isolation: each route that names a resource, called by tenant B with tenant A's
   resource, answers 404 and changes nothing of A's;
2. audit: each mutating route, called with valid input, leaves exactly one audit event
   (or the number its case names: a tool's execution is audited as it starts and ends).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from personae.db.engine import DatabaseUrls
from personae.kernel.audit.models import AuditEvent
from personae.schema import tenant_owned_tables
from personae.settings import Settings
from tests.api.conftest import ClientFactory, new_tenant
from tests.api.registry import CASES, Actor

MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
PROBLEM = "application/problem+json"
UNLIMITED = Settings(
    login_attempts_per_pair=10_000,
    login_attempts_per_pair_hourly=10_000,
    login_attempts_per_ip=10_000,
)


@dataclass
class Tenants:
    a: tuple[uuid.UUID, str, str]
    b: tuple[uuid.UUID, str, str]


@pytest.fixture(scope="module")
async def tenants(owner_engine: AsyncEngine, app_engine: AsyncEngine) -> Tenants:
    made = []
    for name in ("Sweep A", "Sweep B"):
        email = f"{name[-1].lower()}@sweep.example.com"
        created = await new_tenant(owner_engine, app_engine, name, email)
        assert created.one_time_password
        made.append((created.tenant.id, created.owner.email, created.one_time_password))
    return Tenants(*made)


async def _routes(client: httpx.AsyncClient) -> list[tuple[str, str]]:
    spec = (await client.get("/openapi.json")).json()
    return sorted((method.upper(), path) for path, ops in spec["paths"].items() for method in ops)


async def test_every_route_is_registered(urls: DatabaseUrls, api_client: ClientFactory) -> None:
    async with api_client(urls) as client:
        routes = await _routes(client)
    missing = [route for route in routes if route not in CASES]
    assert not missing, f"add these routes to tests/api/registry.py: {missing}"
    stale = [route for route in CASES if route not in routes]
    assert not stale, f"routes in tests/api/registry.py that no longer exist: {stale}"
    for method, path in routes:
        if "{" in path:
            assert CASES[(method, path)].ids is not None, f"{method} {path} needs `ids`"


async def _fingerprint(owner: AsyncEngine, tenant: uuid.UUID) -> dict[str, str]:
    """Every row of the tenant, table by table, as one digest each (audit excluded)."""
    digests = {}
    async with owner.connect() as conn:
        for name in tenant_owned_tables():
            if name == "audit_events":
                continue
            digests[name] = (
                await conn.execute(
                    text(
                        f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                        f"FROM {name} t WHERE tenant_id = :tenant"
                    ),
                    {"tenant": tenant},
                )
            ).scalar_one()
    return digests


async def test_another_tenants_resources_are_404_and_untouched(
    urls: DatabaseUrls,
    api_client: ClientFactory,
    tenants: Tenants,
    owner_engine: AsyncEngine,
    app_sessions: async_sessionmaker[AsyncSession],
) -> None:
    checked = []
    async with api_client(urls, UNLIMITED) as client:
        victim = Actor(client, tenants.a[1], tenants.a[2], app_sessions)
        intruder = Actor(client, tenants.b[1], tenants.b[2], app_sessions)
        await victim.sign_in()
        await intruder.sign_in()
        for (method, path), case in sorted(CASES.items()):
            if case.ids is None:
                continue
            params = await case.ids(victim)
            before = await _fingerprint(owner_engine, tenants.a[0])
            body = await case.body(intruder)
            response = await client.request(
                method,
                path.format(**params),
                headers=intruder.headers,
                json=body if case.content is None else None,
                content=case.content,
                params=case.query,
            )
            if not case.catalogue_key:
                assert response.status_code == 404, (
                    method,
                    path,
                    response.status_code,
                    response.text,
                )
                assert response.headers["content-type"] == PROBLEM
            assert await _fingerprint(owner_engine, tenants.a[0]) == before, (method, path)
            checked.append((method, path))
    assert checked, "no route names a resource yet"


async def _audit_count(owner: AsyncEngine) -> int:
    async with owner.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(AuditEvent))).scalar_one())


async def test_every_mutation_leaves_exactly_one_audit_event(
    urls: DatabaseUrls,
    api_client: ClientFactory,
    tenants: Tenants,
    owner_engine: AsyncEngine,
    app_sessions: async_sessionmaker[AsyncSession],
) -> None:
    checked = []
    async with api_client(urls, UNLIMITED) as client:
        actor = Actor(client, tenants.a[1], tenants.a[2], app_sessions)
        for (method, path), case in sorted(CASES.items()):
            if method not in MUTATING:
                continue
            if not actor.headers or case.fresh_session:
                await actor.sign_in()
            params = await case.ids(actor) if case.ids else {}
            body = await case.body(actor)
            headers = actor.headers if case.signed_in else {}
            before = await _audit_count(owner_engine)
            response = await client.request(
                method,
                path.format(**params),
                headers=headers,
                json=body if case.content is None else None,
                content=case.content,
                params=case.query,
            )
            if case.status is not None:
                assert response.status_code == case.status, (method, path, response.text)
            else:
                assert response.status_code < 300, (
                    method,
                    path,
                    response.status_code,
                    response.text,
                )
            after = await _audit_count(owner_engine)
            expected = 0 if case.reads_only else case.audit_events
            assert after - before == expected, f"{method} {path} left {after - before} events"
            checked.append((method, path))
            if case.fresh_session:
                actor.headers = {}  # that session is over
    assert len(checked) == sum(1 for method, _ in CASES if method in MUTATING)


def test_registry_paths_are_well_formed() -> None:
    for method, path in CASES:
        assert method in MUTATING | {"GET"}
        assert re.fullmatch(r"(/[a-z0-9_{}.-]+)+", path), path


def _pages(spec: dict[str, Any], operation: dict[str, Any]) -> str | None:
    """The query parameter that names a page's place (`after` or `cursor`), when the route
    answers pages (a body with `next_cursor`)."""
    content = operation.get("responses", {}).get("200", {}).get("content", {})
    reference = content.get("application/json", {}).get("schema", {}).get("$ref", "")
    shape = spec["components"]["schemas"].get(reference.rsplit("/", 1)[-1], {})
    if "next_cursor" not in shape.get("properties", {}):
        return None
    names = {p["name"] for p in operation.get("parameters", [])}
    [place] = names & {"after", "cursor"}
    return str(place)


async def test_every_list_route_pages_to_its_end(
    urls: DatabaseUrls,
    api_client: ClientFactory,
    tenants: Tenants,
    app_sessions: async_sessionmaker[AsyncSession],
) -> None:
    checked = []
    async with api_client(urls, UNLIMITED) as client:
        # tenant B: the mutation sweep changed A's password, as it walked the routes
        actor = Actor(client, tenants.b[1], tenants.b[2], app_sessions)
        await actor.sign_in()
        spec = (await client.get("/openapi.json")).json()
        for path, operations in sorted(spec["paths"].items()):
            place = _pages(spec, operations["get"]) if "get" in operations else None
            if place is None:
                continue
            case = CASES[("GET", path)]
            url = path.format(**(await case.ids(actor) if case.ids else {}))
            maker = CASES.get(("POST", path))
            if maker is not None and maker.status is None and maker.content is None:
                for _ in range(2):  # two rows at least, where the route's POST makes them
                    await client.post(
                        url, headers=actor.headers, json=await maker.body(actor), params=maker.query
                    )
            query = dict(case.query or {})
            pages = Pages(client, actor.headers, url, place, query)
            expected = await pages.walk(100)
            assert await pages.walk(1 if len(expected) <= 20 else 7) == expected, path
            checked.append((path, len(expected)))
    assert len(checked) >= 20, checked
    assert sum(1 for _, rows in checked if rows >= 2) >= 10, checked


@dataclass
class Pages:
    """One list route, read page by page."""

    client: httpx.AsyncClient
    headers: dict[str, str]
    url: str
    place: str
    query: dict[str, str]

    async def walk(self, size: int) -> list[str]:
        """Every item's identity, following `next_cursor` to the end `size` at a time."""
        seen: list[str] = []
        cursor = None
        for _ in range(1000):
            at: dict[str, Any] = {self.place: cursor} if cursor is not None else {}
            page = await self.client.get(
                self.url, headers=self.headers, params={**self.query, "limit": size, **at}
            )
            assert page.status_code == 200, (self.url, page.text)
            assert len(page.json()["items"]) <= size
            seen += [_identity(item) for item in page.json()["items"]]
            cursor = page.json()["next_cursor"]
            if cursor is None:
                return seen
        raise AssertionError(f"{self.url} pages without end")


def _identity(item: dict[str, Any]) -> str:
    return str(item.get("id") or sorted(item.items()))
