"""API tokens over HTTP, every use audited; the audit trail, paged by cursor."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from personae.db.engine import DatabaseUrls, sessionmaker
from personae.identity.service import create_tenant, sync_permissions
from tests.api.conftest import ClientFactory, bearer

PROBLEM = "application/problem+json"


@dataclass
class Owners:
    a: tuple[str, str]
    b: tuple[str, str]


@pytest.fixture(scope="module")
async def owners(owner_engine: AsyncEngine, app_engine: AsyncEngine) -> Owners:
    async with owner_engine.begin() as conn:
        await sync_permissions(conn)
    made = []
    for name in ("Token A", "Token B"):
        email = f"{name.split()[1].lower()}@tokens.example.com"
        async with sessionmaker(app_engine)() as session, session.begin():
            created = await create_tenant(session, name, email)
        assert created.one_time_password
        made.append((email, created.one_time_password))
    return Owners(*made)


async def test_token_is_shown_once_scoped_audited_and_revocable(
    urls: DatabaseUrls, api_client: ClientFactory, owners: Owners
) -> None:
    async with api_client(urls) as client:
        owner = await bearer(client, *owners.a)
        created = await client.post(
            "/v1/tokens",
            headers=owner,
            json={"name": "ci", "scopes": ["audit:read", "tokens:read"], "expires_in_days": 30},
        )
        assert created.status_code == 201, created.text
        token = created.json()["token"]
        assert token.startswith("pat_") and created.json()["scopes"] == [
            "audit:read",
            "tokens:read",
        ]

        listed = await client.get("/v1/tokens", headers=owner)
        assert token not in listed.text and listed.json()[0]["token_prefix"] == token[:12]

        machine = {"Authorization": f"Bearer {token}"}
        assert (await client.get("/v1/audit", headers=machine)).status_code == 200
        denied = await client.post("/v1/tokens", headers=machine, json={"name": "x", "scopes": []})
        assert denied.status_code == 403 and denied.headers["content-type"] == PROBLEM
        uses = await client.get("/v1/audit", headers=owner, params={"event_type": "token.use"})
        assert len(uses.json()["items"]) == 2  # the read and the refused write

        token_id = created.json()["id"]
        assert (await client.delete(f"/v1/tokens/{token_id}", headers=owner)).status_code == 204
        revoked = await client.get("/v1/audit", headers=machine)
        assert revoked.status_code == 401 and "revoked" in revoked.json()["detail"]


async def test_token_scopes_are_checked(
    urls: DatabaseUrls, api_client: ClientFactory, owners: Owners
) -> None:
    async with api_client(urls) as client:
        owner = await bearer(client, *owners.a)
        bad = await client.post(
            "/v1/tokens", headers=owner, json={"name": "x", "scopes": ["root:everything"]}
        )
    assert bad.status_code == 422
    assert bad.json()["errors"] == [
        {"field": "scopes", "message": "unknown permissions: root:everything"}
    ]


async def test_another_tenants_token_is_not_found(
    urls: DatabaseUrls, api_client: ClientFactory, owners: Owners
) -> None:
    async with api_client(urls) as client:
        a, b = await bearer(client, *owners.a), await bearer(client, *owners.b)
        created = await client.post("/v1/tokens", headers=a, json={"name": "mine", "scopes": []})
        token_id = created.json()["id"]
        response = await client.delete(f"/v1/tokens/{token_id}", headers=b)
        still = await client.get("/v1/tokens", headers=a)
    assert response.status_code == 404 and response.headers["content-type"] == PROBLEM
    assert [t["revoked_at"] for t in still.json() if t["id"] == token_id] == [None]


async def test_audit_pages_by_cursor_newest_first(
    urls: DatabaseUrls, api_client: ClientFactory, owners: Owners
) -> None:
    async with api_client(urls) as client:
        owner = await bearer(client, *owners.b)
        for n in range(5):
            await client.post("/v1/tokens", headers=owner, json={"name": f"t{n}", "scopes": []})
        everything = (await client.get("/v1/audit", headers=owner, params={"limit": 500})).json()
        ids, cursor = [], None
        while True:
            params: dict[str, str | int] = {"limit": 2}
            if cursor:
                params["cursor"] = cursor
            page = (await client.get("/v1/audit", headers=owner, params=params)).json()
            ids += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        creates = await client.get(
            "/v1/audit", headers=owner, params={"event_type": "token.create"}
        )
        bad = await client.get("/v1/audit", headers=owner, params={"limit": 0, "cursor": "x"})
    assert ids == [item["id"] for item in everything["items"]]
    assert ids == sorted(ids, reverse=True) and len(ids) == len(set(ids)) >= 8
    assert [i["event_data"]["name"] for i in creates.json()["items"]] == [
        f"t{n}" for n in range(4, -1, -1)
    ]
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"limit", "cursor"}
