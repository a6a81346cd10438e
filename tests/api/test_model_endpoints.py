"""A model config's base_url is an outbound request this server makes for a tenant: only
the endpoints the deployment lists may be named (no loopback, metadata or private
addresses unless listed), and a refusal's body never reaches the tenant."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from personae.db.engine import DatabaseUrls
from personae.errors import ProviderError
from personae.providers.chat import Message, OpenAIChat
from personae.providers.endpoints import check_endpoint
from personae.settings import MODEL_ENDPOINT_HOSTS, Settings
from tests.api.conftest import ClientFactory, bearer
from tests.scripted_openai import Script, scripted_openai

OWNER = "owner@endpoints.example.com"


async def test_base_urls_the_deployment_does_not_list_are_refused(
    urls: DatabaseUrls, api_client: ClientFactory, owner_password: str
) -> None:
    defaults = Settings(connect_timeout_s=2, model_endpoint_hosts=list(MODEL_ENDPOINT_HOSTS))
    async with api_client(urls, defaults) as client:
        auth = await bearer(client, OWNER, owner_password)

        async def made(name: str, base_url: str) -> int:
            body = {"name": name, "provider": "openai", "model_name": "m", "base_url": base_url}
            answer = await client.post("/v1/model-configs", headers=auth, json=body)
            if answer.status_code == 422:
                assert answer.json()["errors"][0]["field"] == "base_url"
            return answer.status_code

        for index, internal in enumerate(
            (
                "http://127.0.0.1:9/v1",
                "http://localhost:8420/v1",
                "http://169.254.169.254/latest/meta-data",
                "http://10.0.0.7/v1",
                "http://[::1]/v1",
                "https://internal.corp.example/v1",
            )
        ):
            assert await made(f"internal-{index}", internal) == 422, internal
        assert await made("openai", "https://api.openai.com/v1") == 201
        assert await made("azure", "https://mine.openai.azure.com/") == 201
        config = (await client.get("/v1/model-configs", headers=auth)).json()[0]
        moved = await client.patch(
            f"/v1/model-configs/{config['id']}",
            headers=auth,
            json={"base_url": "http://169.254.169.254/"},
        )
        assert moved.status_code == 422

    anything_public = defaults.model_copy(update={"model_endpoint_hosts": ["*"]})
    async with api_client(urls, anything_public, prepare=False) as client:
        auth = await bearer(client, OWNER, owner_password)
        assert await made("public", "https://models.example.net/v1") == 201
        assert await made("private", "http://192.168.1.20/v1") == 422
        assert await made("loopback", "http://localhost/v1") == 422


async def test_a_name_allowed_by_star_must_resolve_to_public_addresses() -> None:
    await check_endpoint("https://api.openai.com/v1", MODEL_ENDPOINT_HOSTS)  # listed: no lookup
    with pytest.raises(ProviderError, match="not a public address"):
        await check_endpoint(f"http://{_a_loopback_name()}:8080/v1", ["*"])
    with pytest.raises(ProviderError, match="not on this installation's list"):
        await check_endpoint("http://127.0.0.1:8080/v1", MODEL_ENDPOINT_HOSTS)


def _a_loopback_name() -> str:
    """A name other than `localhost` that resolves to a loopback address here (the host's
    own name, `ip6-localhost`: whatever /etc/hosts gives)."""
    for line in Path("/etc/hosts").read_text().splitlines():
        address, *names = line.split("#")[0].split() or [""]
        if address and ipaddress.ip_address(address).is_loopback:
            for name in names:
                if name != "localhost" and not name.endswith(".localhost"):
                    return name
    pytest.skip("no name but localhost resolves to loopback on this machine")


async def test_a_refusals_body_is_not_passed_on() -> None:
    script = Script(chat_failures=[400, 401])
    async with scripted_openai(script) as base_url:
        model = OpenAIChat(base_url=base_url, api_key="k", model="m", timeout_s=5, max_retries=0)
        for meaning in ("found the request malformed", "refused the API key"):
            with pytest.raises(ProviderError) as caught:
                await model.complete([Message("user", "hi")])
            assert meaning in caught.value.detail
            assert "scripted failure" not in caught.value.detail  # the body's own text
        await model.close()
