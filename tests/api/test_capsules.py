"""Capsules through the API: a set installs in dependency order with its tools and
templates; a missing dependency, a version conflict, a cycle, a taken tool name and an
upgrade that breaks an installed capsule are refused (409, saying which); uninstall is
refused while another capsule depends on it; capsules offered by a plugin (entry point)
install by name; prompt templates render strictly."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from personae.db.engine import DatabaseUrls
from personae.plugins import hookimpl
from personae.settings import Settings
from personae.tools import plugins
from tests.api.conftest import bearer, running_app

SETTINGS = Settings(connect_timeout_s=2, embedder="hashing")


def manifest(name: str, version: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "version": version, "author": "Tests", **extra}


GEO = manifest(
    "geo",
    "1.4.0",
    tools=[
        {
            "name": "distance",
            "description": "Kilometres between two cities.",
            "code_type": "python",
            "code": "def main(a, b):\n    return len(a) + len(b)\n",
            "parameters": {
                "type": "object",
                "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
                "required": ["a", "b"],
            },
        }
    ],
)
TRAVEL = manifest(
    "travel",
    "2.0.0",
    dependencies={"geo": "^1.2"},
    prompt_templates=[
        {
            "name": "itinerary",
            "content": "Plan {{ days }} days in {{city}}.",
            "variables": ["days", "city"],
        }
    ],
)


async def install(
    client: httpx.AsyncClient, auth: dict[str, str], *manifests: dict[str, Any], **body: Any
) -> httpx.Response:
    return await client.post(
        "/v1/capsules/install", headers=auth, json={"manifests": list(manifests), **body}
    )


async def test_capsules_install_in_order_and_refuse_conflicts(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    async with running_app(urls, SETTINGS) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        alone = await install(client, auth, TRAVEL)
        assert alone.status_code == 409 and "travel 2.0.0 needs geo ^1.2" in alone.text

        done = await install(client, auth, TRAVEL, GEO)
        assert done.status_code == 200, done.text
        assert [(c["name"], c["version"]) for c in done.json()] == [
            ("geo", "1.4.0"),
            ("travel", "2.0.0"),
        ]
        ran = await client.post(
            "/v1/tools/distance/execute",
            headers=auth,
            json={"arguments": {"a": "Lyon", "b": "Oslo"}},
        )
        assert ran.json()["result"]["value"] == 8
        tools = (await client.get("/v1/tools", headers=auth)).json()["items"]
        distance = next(t for t in tools if t["name"] == "distance")
        edited = await client.patch(
            f"/v1/tools/{distance['id']}", headers=auth, json={"code": "def main(): pass"}
        )
        assert edited.status_code == 409  # the capsule's, changed by upgrading it

        templates = (await client.get("/v1/prompt-templates", headers=auth)).json()["items"]
        [itinerary] = [t for t in templates if t["template_name"] == "itinerary"]
        rendered = await client.post(
            f"/v1/prompt-templates/{itinerary['id']}/render",
            headers=auth,
            json={"variables": {"days": 3, "city": "Kyoto"}},
        )
        assert rendered.json() == {"text": "Plan 3 days in Kyoto."}

        breaking = await install(client, auth, {**GEO, "version": "2.0.0"})
        assert breaking.status_code == 409
        assert "travel 2.0.0 needs geo ^1.2: 2.0.0 would break it" in breaking.text
        compatible = await install(client, auth, {**GEO, "version": "1.5.0"})
        assert compatible.status_code == 200, compatible.text
        cycle = await install(
            client, auth, {**GEO, "version": "1.6.0", "dependencies": {"travel": "*"}}
        )
        assert cycle.status_code == 409 and "depend on each other" in cycle.text
        taken = await install(
            client,
            auth,
            manifest("clash", "1.0.0", tools=[{**GEO["tools"][0], "name": "calculator"}]),
        )
        assert taken.status_code == 409 and "the name of a built-in" in taken.text
        bad = await install(client, auth, manifest("bad", "one"))
        assert bad.json()["errors"][0]["field"] == "manifests.0.version"
        constraint = await install(
            client, auth, manifest("bad", "1.0.0", dependencies={"geo": "^^"})
        )
        assert constraint.json()["errors"][0]["field"] == "manifests.0.dependencies.geo"

        capsules = {
            c["name"]: c for c in (await client.get("/v1/capsules", headers=auth)).json()["items"]
        }
        assert capsules["geo"]["version"] == "1.5.0"
        needed = await client.post(f"/v1/capsules/{capsules['geo']['id']}/uninstall", headers=auth)
        assert needed.status_code == 409 and "needed by travel" in needed.text
        for name in ("travel", "geo"):
            gone = await client.post(f"/v1/capsules/{capsules[name]['id']}/uninstall", headers=auth)
            assert gone.status_code == 200 and gone.json()["installed"] is False
        after = await client.post(
            "/v1/tools/distance/execute", headers=auth, json={"arguments": {"a": "x", "b": "y"}}
        )
        assert after.status_code == 404
        left = (await client.get("/v1/prompt-templates", headers=auth)).json()["items"]
        assert not [t for t in left if t["template_name"] == "itinerary"]


async def test_templates_render_strictly(urls: DatabaseUrls, fresh_owner: tuple[str, str]) -> None:
    async with running_app(urls, SETTINGS) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        body = {
            "template_name": "greeting",
            "template_content": "Hello {{ name }}, welcome to {{ place }}.",
            "variables": ["name", "place"],
        }
        made = await client.post("/v1/prompt-templates", headers=auth, json=body)
        assert made.status_code == 201, made.text
        path = f"/v1/prompt-templates/{made.json()['id']}/render"
        missing = await client.post(path, headers=auth, json={"variables": {"name": "Ada"}})
        assert missing.json()["errors"][0]["field"] == "variables.place"
        stray = await client.post(
            path, headers=auth, json={"variables": {"name": "A", "place": "B", "x": 1}}
        )
        assert stray.json()["errors"][0]["field"] == "variables.x"
        undeclared = await client.post(
            "/v1/prompt-templates",
            headers=auth,
            json={**body, "template_name": "other", "variables": ["name"]},
        )
        assert undeclared.status_code == 422 and "place" in undeclared.json()["detail"]
        content_only = await client.patch(
            f"/v1/prompt-templates/{made.json()['id']}",
            headers=auth,
            json={"template_content": "Bye {{ name }} from {{ place }}."},
        )
        assert content_only.status_code == 200, content_only.text
        done = await client.post(
            path, headers=auth, json={"variables": {"name": "A", "place": "B"}}
        )
        assert done.json()["text"] == "Bye A from B."


async def test_plugins_offer_capsules_to_install_by_name(
    urls: DatabaseUrls, fresh_owner: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    class Offers:
        @hookimpl
        def register_capsules(self, register: Any) -> None:
            register(GEO)
            register({"name": "broken"})  # left out: no version

    manager = plugins.plugins()
    offers = Offers()
    manager.register(offers)
    try:
        async with running_app(urls, SETTINGS) as (_app, client):
            auth = await bearer(client, *fresh_owner)
            listed = await client.get("/v1/capsules/offered", headers=auth)
            assert [m["name"] for m in listed.json()] == ["geo"]
            done = await install(client, auth, TRAVEL, offered=["geo"])
            assert [c["name"] for c in done.json()] == ["geo", "travel"], done.text
            unknown = await install(client, auth, offered=["nothing"])
            assert unknown.json()["errors"][0]["field"] == "offered.0"
    finally:
        manager.unregister(offers)
