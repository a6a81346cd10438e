"""Tools: made from plain functions, built-ins registered through the plugin hook, tenant
tools whose schemas are checked, and execution that checks arguments and records every
call (its outcome, duration and audit events)."""

from __future__ import annotations

from typing import Annotated, Any

import httpx
import pluggy
import pytest
from pydantic import Field
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from personae.db.engine import DatabaseUrls
from personae.errors import ValidationFailed
from personae.plugins import hookimpl
from personae.settings import Settings
from personae.tools.calculator import evaluate
from personae.tools.functions import ToolContext, function_tool
from personae.tools.plugins import Specs, registered_tools
from tests.api.conftest import bearer, running_app
from tests.api.test_documents import drain
from tests.api.test_memory_writing import say

SETTINGS = Settings(connect_timeout_s=2, embedder="hashing", tool_builtin_timeout_s=0.5)


def weather(context: ToolContext, city: str, days: Annotated[int, Field(ge=1, le=7)] = 3) -> str:
    """The forecast for a city.

    Longer notes stay out of the description."""
    return f"{city}: sunny for {days} days"


def test_a_plain_function_becomes_a_tool_with_its_schema() -> None:
    tool = function_tool(weather)
    assert tool.schema() == {
        "type": "function",
        "function": {
            "name": "weather",
            "description": "The forecast for a city.",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string"},
                    "days": {"type": "integer", "default": 3, "minimum": 1, "maximum": 7},
                },
                "required": ["city"],
                "additionalProperties": False,
            },
        },
    }
    assert tool.takes_context  # the context is the caller's, never the model's
    with pytest.raises(ValueError, match="docstring"):
        function_tool(lambda: None, name="nameless")


def test_plugins_register_tools_through_one_hook() -> None:
    class Forecasts:
        @hookimpl
        def register_tools(self, register: Any) -> None:
            register(weather)

    manager = pluggy.PluginManager("personae")
    manager.add_hookspecs(Specs)
    manager.register(Forecasts())
    assert list(registered_tools(manager)) == ["weather"]
    manager.register(type("Again", (Forecasts,), {})())
    with pytest.raises(ValueError, match="two plugins"):
        registered_tools(manager)
    assert {"current_time", "calculator", "memory_search", "knowledge_search"} <= set(
        registered_tools()
    )


@pytest.mark.parametrize(
    ("expression", "value"),
    [("1 + 2 * 3", 7), ("2 ** 10", 1024), ("sqrt(16) + abs(-2)", 6.0), ("7 // 2", 3)],
)
def test_the_calculator_computes(expression: str, value: float) -> None:
    assert evaluate(expression) == value


@pytest.mark.parametrize(
    "expression",
    ["__import__('os').system('true')", "9 ** 9 ** 9", "(9 ** 999) ** 999", "1 / 0", "1e308 * 10"],
)
def test_the_calculator_refuses_what_is_not_bounded_arithmetic(expression: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        evaluate(expression)
    assert refused.value.field == "arguments.expression"


async def run(
    client: httpx.AsyncClient, auth: dict[str, str], name: str, **arguments: Any
) -> httpx.Response:
    return await client.post(
        f"/v1/tools/{name}/execute", headers=auth, json={"arguments": arguments}
    )


async def test_built_ins_run_checked_and_every_call_is_recorded(
    urls: DatabaseUrls, fresh_owner: tuple[str, str], owner_engine: AsyncEngine
) -> None:
    async with running_app(urls, SETTINGS) as (app, client):
        auth = await bearer(client, *fresh_owner)
        listed = await client.get("/v1/tools/builtins", headers=auth)
        assert {t["name"] for t in listed.json()} >= {"calculator", "session_history"}

        done = await run(client, auth, "calculator", expression="6 * 7")
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "succeeded" and done.json()["result"] == {"value": 42}
        assert done.json()["duration_ms"] >= 0 and done.json()["tool_name"] == "calculator"

        missing = await run(client, auth, "calculator")
        assert missing.status_code == 422 and "expression" in missing.json()["detail"]
        wrong = await run(client, auth, "calculator", expression=5)
        assert wrong.status_code == 422
        assert wrong.json()["errors"][0]["field"] == "arguments.expression"
        extra = await run(client, auth, "current_time", timezone="Mars/Olympus")
        assert extra.json()["errors"][0]["field"] == "arguments.timezone"
        unknown = await run(client, auth, "teleport")
        assert unknown.status_code == 404

        sid = (await client.post("/v1/sessions", headers=auth, json={})).json()["id"]
        await say(client, auth, sid, ("user", "The otters hold hands while sleeping"))
        await drain(app)
        history = await run(client, auth, "session_history", session_id=sid)
        assert [m["content"] for m in history.json()["result"]["value"]] == [
            "The otters hold hands while sleeping"
        ]
        recalled = await run(client, auth, "memory_search", query="otters sleeping", k=1)
        assert recalled.json()["result"]["value"][0]["content"].endswith("while sleeping")
        bounded = await run(client, auth, "memory_search", query="otters", k=500)
        assert bounded.json()["errors"][0]["field"] == "arguments.k"
        elsewhere = await run(
            client, auth, "session_history", session_id="01234567-89ab-7def-8123-456789abcdef"
        )
        assert elsewhere.json()["status"] == "failed"  # the tool's failure, recorded
        assert "no such session" in elsewhere.json()["error"]

        async with owner_engine.connect() as conn:
            events = (
                await conn.execute(
                    text(
                        "SELECT action, result, event_data FROM audit_events "
                        "WHERE resource_type = 'tool_execution' AND resource_id = :id "
                        "ORDER BY id"
                    ),
                    {"id": done.json()["id"]},
                )
            ).all()
        assert [(e.action, e.result) for e in events] == [
            ("start", "success"),
            ("finish", "success"),
        ]
        assert events[1].event_data["status"] == "succeeded"


async def test_tenant_tools_are_checked_when_registered(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    async with running_app(urls, SETTINGS) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        tool = {
            "name": "lookup-order",
            "description": "Find an order by its number.",
            "code_type": "http",
            "endpoint": "https://shop.example.com/orders",
            "schema": {"type": "object", "properties": {"number": {"type": "string"}}},
        }
        made = await client.post("/v1/tools", headers=auth, json=tool)
        assert made.status_code == 201, made.text
        again = await client.post("/v1/tools", headers=auth, json={**tool, "name": "calculator"})
        assert again.status_code == 409  # a built-in's name
        for schema, field in (
            (
                {"type": "object", "properties": {"n": {"type": "strung"}}},
                "schema.properties.n.type",
            ),
            ({"type": "array"}, "schema.type"),
        ):
            bad = await client.post(
                "/v1/tools", headers=auth, json={**tool, "name": "bad", "schema": schema}
            )
            assert bad.status_code == 422, bad.text
            assert bad.json()["errors"][0]["field"].startswith(field.rsplit(".", 1)[0])
        named = await client.post("/v1/tools", headers=auth, json={**tool, "name": "no spaces"})
        assert named.json()["errors"][0]["field"] == "name"
        off_list = await run(client, auth, "lookup-order", number="A-1")
        assert off_list.json()["status"] == "failed"
        assert "not on the allow-list" in off_list.json()["error"]
        no_url = await client.post(
            "/v1/tools", headers=auth, json={**tool, "name": "nowhere", "endpoint": "ftp://x"}
        )
        assert no_url.json()["errors"][0]["field"] == "endpoint"


async def test_dependencies_refuse_cycles_and_plan_in_order(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    async with running_app(urls, SETTINGS) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        ids = {}
        for name in ("fetch", "parse", "store", "notify"):
            body = {
                "name": name,
                "description": f"{name} things",
                "code_type": "python",
                "code": "def main():\n    return 1\n",
                "schema": {"type": "object"},
                "enabled": name != "store",
            }
            made = await client.post("/v1/tools", headers=auth, json=body)
            assert made.status_code == 201, made.text
            ids[name] = made.json()["id"]

        async def depend(name: str, *on: tuple[str, str]) -> httpx.Response:
            body = {"dependencies": [{"tool_id": ids[n], "kind": kind} for n, kind in on]}
            return await client.put(f"/v1/tools/{ids[name]}/dependencies", headers=auth, json=body)

        assert (await depend("store", ("parse", "requires"))).status_code == 204
        assert (await depend("parse", ("fetch", "requires"))).status_code == 204
        assert (await depend("store", ("parse", "requires"), ("notify", "optional"))).is_success
        closing = await depend("fetch", ("store", "recommends"))
        assert closing.status_code == 422
        around = closing.json()["detail"].split(": ")[1].split(" -> ")
        assert around[0] == around[-1] and set(around) == {"fetch", "store", "parse"}
        itself = await depend("fetch", ("fetch", "requires"))
        assert itself.json()["errors"][0]["field"] == "dependencies.0"

        planned = await client.get(f"/v1/tools/{ids['store']}/plan", headers=auth)
        assert [(t["name"], t["enabled"]) for t in planned.json()] == [
            ("fetch", True),
            ("parse", True),
            ("store", False),  # what must be enabled before it runs
        ]  # the optional one is not pulled in
        blocked = await client.post("/v1/tools/parse/execute", headers=auth, json={"arguments": {}})
        assert blocked.status_code == 200, blocked.text  # parse needs only fetch: enabled
        waiting = await client.post("/v1/tools/store/execute", headers=auth, json={})
        assert waiting.status_code == 409  # store itself is disabled
        assert (
            await client.patch(f"/v1/tools/{ids['fetch']}", headers=auth, json={"enabled": False})
        ).is_success
        needs = await client.post("/v1/tools/parse/execute", headers=auth, json={})
        assert needs.status_code == 409 and "requires fetch" in needs.json()["detail"]
