"""Feature flags by profile with overrides; model configs with their key in the vault."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from personae.db.engine import DatabaseUrls
from personae.settings_store.flags import FLAGS, profile_default
from personae.vault.models import Secret
from tests.api.conftest import ClientFactory, bearer, new_tenant

OWNER = "flags@example.com"


@pytest.fixture(scope="module")
async def password(owner_engine: AsyncEngine, app_engine: AsyncEngine) -> str:
    created = await new_tenant(owner_engine, app_engine, "Flaggy", OWNER)
    assert created.one_time_password
    return created.one_time_password


def test_profiles_only_add_flags() -> None:
    for flag in FLAGS:
        states = [profile_default(flag, p) for p in ("minimal", "standard", "enhanced", "max")]
        assert states == sorted(states) and states[-1]


async def test_profile_defaults_overrides_and_clearing(
    urls: DatabaseUrls, api_client: ClientFactory, password: str
) -> None:
    async with api_client(urls) as client:
        auth = await bearer(client, OWNER, password)
        start = (await client.get("/v1/flags", headers=auth)).json()
        overridden = (
            await client.put("/v1/flags/search_logging", headers=auth, json={"enabled": True})
        ).json()
        upgraded = (await client.put("/v1/flags", headers=auth, json={"profile": "minimal"})).json()
        cleared = await client.delete("/v1/flags/search_logging", headers=auth)
        again = await client.delete("/v1/flags/search_logging", headers=auth)
        unknown = await client.put("/v1/flags/warp_drive", headers=auth, json={"enabled": True})
        bad_profile = await client.put("/v1/flags", headers=auth, json={"profile": "ultra"})
        end = (await client.get("/v1/flags", headers=auth)).json()
    states = {f["key"]: (f["enabled"], f["source"]) for f in start["flags"]}
    assert start["profile"] == "standard" and states["search_logging"] == (False, "profile")
    assert states["memory_extraction"] == (True, "profile")
    after = {f["key"]: (f["enabled"], f["source"]) for f in overridden["flags"]}
    assert after["search_logging"] == (True, "override")
    minimal = {f["key"]: f["enabled"] for f in upgraded["flags"]}
    assert upgraded["profile"] == "minimal" and minimal["memory_extraction"] is False
    assert minimal["search_logging"] is True  # the override outlives a profile change
    assert cleared.status_code == 204 and again.status_code == 404 and unknown.status_code == 404
    assert bad_profile.status_code == 422
    assert {f["key"]: f["source"] for f in end["flags"]}["search_logging"] == "profile"


async def test_model_config_keys_live_in_the_vault(
    urls: DatabaseUrls, api_client: ClientFactory, password: str, owner_engine: AsyncEngine
) -> None:
    key = "sk-model-7c1e-secret"
    async with api_client(urls) as client:
        auth = await bearer(client, OWNER, password)
        created = await client.post(
            "/v1/model-configs",
            headers=auth,
            json={
                "name": "fast",
                "provider": "openai",
                "model_name": "gpt-4o-mini",
                "base_url": "http://127.0.0.1:9/v1",
                "api_key": key,
                "rpm": 10,
                "context_length": 8192,
            },
        )
        assert created.status_code == 201, created.text
        config_id = created.json()["id"]
        duplicate = await client.post(
            "/v1/model-configs",
            headers=auth,
            json={"name": "fast", "provider": "openai", "model_name": "x"},
        )
        bad = await client.post(
            "/v1/model-configs",
            headers=auth,
            json={
                "name": "y",
                "provider": "openai",
                "model_name": "x",
                "rpm": 0,
                "base_url": "ftp://x",
            },
        )
        patched = await client.patch(
            f"/v1/model-configs/{config_id}",
            headers=auth,
            json={"rpm": 20, "kwargs": {"temperature": 0.2}},
        )
        nulls = [
            await client.patch(f"/v1/model-configs/{config_id}", headers=auth, json={name: None})
            for name in ("kwargs", "model_name", "vision")
        ]
        fetched = await client.get(f"/v1/model-configs/{config_id}", headers=auth)
        async with owner_engine.connect() as conn:
            secrets = (await conn.execute(select(Secret.key_name))).scalars().all()
        deleted = await client.delete(f"/v1/model-configs/{config_id}", headers=auth)
        gone = await client.get(f"/v1/model-configs/{config_id}", headers=auth)
        async with owner_engine.connect() as conn:
            secrets_after = (await conn.execute(select(Secret.key_name))).scalars().all()
    body = created.json()
    assert body["has_api_key"] is True and key not in created.text
    assert duplicate.status_code == 409
    assert bad.status_code == 422 and {e["field"] for e in bad.json()["errors"]} == {
        "rpm",
        "base_url",
    }
    assert patched.json()["rpm"] == 20 and patched.json()["kwargs"] == {"temperature": 0.2}
    assert [(n.status_code, n.json()["errors"][0]["field"]) for n in nulls] == [
        (422, "kwargs"),
        (422, "model_name"),
        (422, "vision"),
    ]
    assert fetched.json()["context_length"] == 8192 and key not in fetched.text
    assert fetched.json()["kwargs"] == {"temperature": 0.2}
    assert f"model_config:{config_id}" in secrets
    assert deleted.status_code == 204 and gone.status_code == 404
    assert f"model_config:{config_id}" not in secrets_after
