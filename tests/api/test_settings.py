"""Settings: precedence system < tenant < persona < user; secrets stay in the vault."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from personae.db.engine import DatabaseUrls
from personae.settings_store.models import SystemSetting
from tests.api.conftest import ClientFactory, bearer, new_tenant

OWNER = "prefs@example.com"
PASSWORD = "a long enough password"


@pytest.fixture(scope="module")
async def password(owner_engine: AsyncEngine, app_engine: AsyncEngine) -> str:
    async with owner_engine.begin() as conn:
        await conn.execute(insert(SystemSetting).values(key="general:theme", value={"v": "light"}))
        await conn.execute(
            insert(SystemSetting).values(key="general:greeting", value={"v": "hello"})
        )
    created = await new_tenant(owner_engine, app_engine, "Prefs", OWNER)
    assert created.one_time_password
    return created.one_time_password


async def test_precedence_and_secret_settings(
    urls: DatabaseUrls, api_client: ClientFactory, password: str
) -> None:
    persona = str(uuid.uuid4())
    async with api_client(urls) as client:
        auth = await bearer(client, OWNER, password)

        async def resolved(**params: str) -> dict[str, tuple[str, object]]:
            rows = (await client.get("/v1/settings", headers=auth, params=params)).json()
            return {r["key"]: (r["scope"], r["value"]) for r in rows}

        assert (await resolved())["theme"] == ("system", "light")
        await client.put("/v1/settings/tenant/theme", headers=auth, json={"value": "dark"})
        await client.put("/v1/settings/tenant/greeting", headers=auth, json={"value": "hi"})
        await client.put(
            "/v1/settings/persona/greeting",
            headers=auth,
            json={"value": "ahoy", "scope_id": persona},
        )
        assert (await resolved())["theme"] == ("tenant", "dark")
        assert (await resolved())["greeting"] == ("tenant", "hi")
        assert (await resolved(persona_id=persona))["greeting"] == ("persona", "ahoy")
        await client.put("/v1/settings/user/greeting", headers=auth, json={"value": "yo"})
        assert (await resolved(persona_id=persona))["greeting"] == ("user", "yo")

        secret = await client.put(
            "/v1/settings/tenant/smtp_password",
            headers=auth,
            json={"value": "hunter2-smtp", "namespace": "agent", "secret": True},
        )
        agent = (
            await client.get("/v1/settings", headers=auth, params={"namespace": "agent"})
        ).json()
        revealed = await client.post(
            f"/v1/secrets/{secret.json()['secret_id']}/reveal", headers=auth
        )
        assert (await client.delete("/v1/settings/user/greeting", headers=auth)).status_code == 204
        assert (await client.delete("/v1/settings/user/greeting", headers=auth)).status_code == 404
        after = await resolved(persona_id=persona)
    assert "hunter2-smtp" not in secret.text and "hunter2-smtp" not in str(agent)
    assert agent == [
        {
            "key": "smtp_password",
            "namespace": "agent",
            "scope": "tenant",
            "value": None,
            "secret": True,
            "secret_id": secret.json()["secret_id"],
        }
    ]
    assert revealed.json()["value"] == "hunter2-smtp"
    assert after["greeting"] == ("persona", "ahoy")


async def test_who_may_write_which_scope(
    urls: DatabaseUrls, api_client: ClientFactory, password: str
) -> None:
    async with api_client(urls) as client:
        owner = await bearer(client, OWNER, password)
        invitation = await client.post(
            "/v1/invitations", headers=owner, json={"email": "val@example.com", "role": "viewer"}
        )
        await client.post(
            "/v1/invitations/accept",
            json={"token": invitation.json()["token"], "password": PASSWORD},
        )
        viewer = await bearer(client, "val@example.com", PASSWORD)
        own = await client.put(
            "/v1/settings/user/density",
            headers=viewer,
            json={"value": "compact", "namespace": "ui"},
        )
        tenant = await client.put(
            "/v1/settings/tenant/density", headers=viewer, json={"value": "compact"}
        )
        someone = await client.put(
            "/v1/settings/user/density",
            headers=viewer,
            json={"value": "x", "scope_id": str(uuid.uuid4())},
        )
        bad_namespace = await client.put(
            "/v1/settings/tenant/k", headers=owner, json={"value": 1, "namespace": "cosmic"}
        )
        tenant_with_id = await client.put(
            "/v1/settings/tenant/k", headers=owner, json={"value": 1, "scope_id": str(uuid.uuid4())}
        )
        no_scope = await client.put("/v1/settings/galaxy/k", headers=owner, json={"value": 1})
        bad_key = await client.put("/v1/settings/tenant/bad key", headers=owner, json={"value": 1})
        persona_without_id = await client.put(
            "/v1/settings/persona/k", headers=owner, json={"value": 1}
        )
    assert own.status_code == 200 and own.json()["scope"] == "user"
    assert tenant.status_code == 403 and someone.status_code == 403
    assert (
        bad_namespace.status_code == 422
        and bad_namespace.json()["errors"][0]["field"] == "namespace"
    )
    assert tenant_with_id.status_code == 422 and persona_without_id.status_code == 422
    assert no_scope.status_code == 404 and bad_key.status_code == 422
