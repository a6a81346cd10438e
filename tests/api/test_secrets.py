"""Secrets over HTTP: values are write-only, reveal is a permission and an audit event,
and a value never reaches the logs of a full request cycle."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from personae.db.engine import DatabaseUrls
from tests.api.conftest import ClientFactory, bearer, join, new_tenant

PLAINTEXT = "sk-live-4b1d-9f0e-do-not-leak"
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
async def owner(owner_engine: AsyncEngine, app_engine: AsyncEngine) -> tuple[str, str]:
    created = await new_tenant(owner_engine, app_engine, "Secretive", "keeper@example.com")
    assert created.one_time_password
    return "keeper@example.com", created.one_time_password


async def test_write_list_reveal_delete_without_leaks(
    urls: DatabaseUrls,
    api_client: ClientFactory,
    owner: tuple[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with api_client(urls) as client:
        auth = await bearer(client, *owner)
        written = await client.put(
            "/v1/secrets",
            headers=auth,
            json={
                "key_name": "openai_api_key",
                "value": PLAINTEXT,
                "secret_type": "llm_provider_key",
            },
        )
        assert written.status_code == 200, written.text
        listed = await client.get("/v1/secrets", headers=auth)
        secret_id = written.json()["id"]
        revealed = await client.post(f"/v1/secrets/{secret_id}/reveal", headers=auth)
        audit = await client.get("/v1/audit", headers=auth, params={"resource_type": "secret"})
        gone = await client.delete(f"/v1/secrets/{secret_id}", headers=auth)
        after = await client.post(f"/v1/secrets/{secret_id}/reveal", headers=auth)
    assert PLAINTEXT not in written.text and PLAINTEXT not in listed.text
    assert [s["key_name"] for s in listed.json()] == ["openai_api_key"]
    assert revealed.json() == {"id": secret_id, "key_name": "openai_api_key", "value": PLAINTEXT}
    events = audit.json()["items"]
    assert [e["event_type"] for e in events] == ["secret.reveal", "secret.write"]
    assert PLAINTEXT not in audit.text
    assert gone.status_code == 204 and after.status_code == 404
    assert PLAINTEXT not in caplog.text


async def test_reveal_needs_its_own_permission(
    urls: DatabaseUrls, api_client: ClientFactory, owner: tuple[str, str]
) -> None:
    async with api_client(urls) as client:
        auth = await bearer(client, *owner)
        written = await client.put(
            "/v1/secrets", headers=auth, json={"key_name": "k", "value": "v"}
        )
        token = await client.post(
            "/v1/tokens", headers=auth, json={"name": "reader", "scopes": ["secrets:read"]}
        )
        machine = {"Authorization": f"Bearer {token.json()['token']}"}
        listed = await client.get("/v1/secrets", headers=machine)
        refused = await client.post(f"/v1/secrets/{written.json()['id']}/reveal", headers=machine)
    assert listed.status_code == 200
    assert refused.status_code == 403 and refused.headers["content-type"] == PROBLEM
    assert "secrets:reveal" in refused.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"key_name": "bad name", "value": "x"}, "key_name"),
        ({"key_name": "k"}, "value"),
        ({"key_name": "k", "value": "x", "scope": "galaxy"}, "scope"),
        ({"key_name": "k", "value": "x", "scope": "persona"}, "scope_id"),
        ({"key_name": "k", "value": "x" * 20_000}, "value"),
    ],
)
async def test_bad_secret_input_names_the_field(
    urls: DatabaseUrls,
    api_client: ClientFactory,
    owner: tuple[str, str],
    body: dict[str, object],
    field: str,
) -> None:
    async with api_client(urls) as client:
        response = await client.put("/v1/secrets", headers=await bearer(client, *owner), json=body)
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]
    assert "x" * 100 not in response.text


async def test_a_resources_secret_changes_only_through_that_resource(
    urls: DatabaseUrls, api_client: ClientFactory, owner: tuple[str, str]
) -> None:
    async with api_client(urls) as client:
        auth = await bearer(client, *owner)
        role = await client.post(
            "/v1/roles",
            headers=auth,
            json={
                "name": "secret-keeper",
                "permissions": ["secrets:read", "secrets:write", "secrets:delete"],
            },
        )
        assert role.status_code == 201, role.text
        keeper = await join(client, auth, "secret-keeper@example.com", "secret-keeper")
        config = await client.post(
            "/v1/model-configs",
            headers=auth,
            json={"name": "owned", "provider": "openai", "model_name": "m", "api_key": PLAINTEXT},
        )
        assert config.status_code == 201, config.text
        key_name = f"model_config:{config.json()['id']}"
        stolen = await client.put(
            "/v1/secrets",
            headers=keeper,
            json={"key_name": key_name, "value": "sk-attacker", "secret_type": "llm_provider_key"},
        )
        secret = next(
            s
            for s in (await client.get("/v1/secrets", headers=keeper)).json()
            if s["key_name"] == key_name
        )
        removed = await client.delete(f"/v1/secrets/{secret['id']}", headers=keeper)
        setting = await client.put(
            "/v1/secrets",
            headers=keeper,
            json={"key_name": "setting:mail:password", "value": "x", "secret_type": "other"},
        )
        revealed = await client.post(f"/v1/secrets/{secret['id']}/reveal", headers=auth)
    assert stolen.status_code == 403 and "model_configs:update" in stolen.json()["detail"]
    assert removed.status_code == 403 and setting.status_code == 403
    assert revealed.json()["value"] == PLAINTEXT
