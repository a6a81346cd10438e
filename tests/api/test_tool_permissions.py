"""Who may use which tool: persona grants and agent activations (with policy overrides) on
top of RBAC; discovery finds the right tools and only permitted ones; a call that may not
run is denied and audited, or queued for an admin's override; approvals; secret
arguments never stored nor audited."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from personae.db.engine import DatabaseUrls
from personae.settings import Settings
from tests.api.conftest import bearer, join, running_app
from tests.tool_catalogue import TASKS, TOOLS

SETTINGS = Settings(connect_timeout_s=2, embedder="hashing", tool_retry_base_s=0.01)
ECHO = "def main(word='', token=''):\n    return word.upper() + ':' + str(len(token))\n"
SECRET_SCHEMA = {
    "type": "object",
    "properties": {
        "word": {"type": "string"},
        "token": {"type": "string", "writeOnly": True},
    },
}


async def post(client: httpx.AsyncClient, auth: dict[str, str], path: str, **body: Any) -> Any:
    response = await client.post(path, headers=auth, json=body)
    assert response.is_success, response.text
    return response.json()


async def python_tool(
    client: httpx.AsyncClient, auth: dict[str, str], name: str, **fields: Any
) -> str:
    body = {
        "name": name,
        "description": f"The {name} tool.",
        "code_type": "python",
        "code": ECHO,
        "schema": SECRET_SCHEMA,
        **fields,
    }
    return str((await post(client, auth, "/v1/tools", **body))["id"])


async def builtin_ids(client: httpx.AsyncClient, auth: dict[str, str]) -> dict[str, str]:
    listed = await client.get("/v1/tools", headers=auth, params={"limit": 500})
    return {t["name"]: t["id"] for t in listed.json()["items"] if t["is_builtin"]}


async def audit(owner: AsyncEngine, resource_id: str) -> list[Any]:
    async with owner.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT action, result, event_data FROM audit_events "
                "WHERE resource_id = :id ORDER BY id"
            ),
            {"id": resource_id},
        )
        return list(rows)


async def test_personas_and_agents_use_only_what_they_are_granted(
    urls: DatabaseUrls, fresh_owner: tuple[str, str], owner_engine: AsyncEngine
) -> None:
    async with running_app(urls, SETTINGS) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        builtins = await builtin_ids(client, auth)
        assert {"calculator", "current_time", "memory_search"} <= set(builtins)
        builtin = await client.patch(
            f"/v1/tools/{builtins['calculator']}", headers=auth, json={"description": "mine"}
        )
        assert builtin.status_code == 409  # a built-in is the code's
        assert (
            await client.delete(f"/v1/tools/{builtins['calculator']}", headers=auth)
        ).status_code == 409
        echo = await python_tool(client, auth, "echo")
        persona = (await post(client, auth, "/v1/personas", name="Clerk"))["id"]
        agent = (await post(client, auth, "/v1/agents", name="night-clerk", persona_id=persona))[
            "id"
        ]
        for tool_id in (builtins["calculator"], builtins["current_time"]):
            await post(client, auth, f"/v1/personas/{persona}/tools", tool_id=tool_id)
        bad = await client.post(
            f"/v1/personas/{persona}/tools",
            headers=auth,
            json={"tool_id": echo, "config": {"timeout_s": -1}},
        )
        assert bad.json()["errors"][0]["field"] == "config.timeout_s"

        async def found(task: str, **who: str) -> list[str]:
            hits = await post(client, auth, "/v1/tools/search", task=task, k=10, **who)
            return [h["name"] for h in hits]

        assert set(await found("calculate a sum", persona_id=persona)) == {
            "calculator",
            "current_time",
        }
        assert "echo" in await found("echo a word")  # no persona: RBAC alone

        # the agent: calculator taken away, echo granted, and echo needs approval
        await post(
            client,
            auth,
            f"/v1/agents/{agent}/tool-activations",
            tool_id="calculator",
            enabled=False,
        )
        await post(
            client,
            auth,
            f"/v1/agents/{agent}/tool-activations",
            tool_id="echo",
            policy_overrides={"requires_approval": True},
        )
        unknown = await client.post(
            f"/v1/agents/{agent}/tool-activations", headers=auth, json={"tool_id": "nothing"}
        )
        assert unknown.json()["errors"][0]["field"] == "tool_id"
        assert set(await found("calculate a sum", agent_id=agent)) == {"current_time", "echo"}

        denied = await post(
            client,
            auth,
            "/v1/tools/calculator/execute",
            arguments={"expression": "1 + 1"},
            agent_id=agent,
        )
        assert denied["status"] == "denied" and f"agent {agent}" in denied["error"]
        assert [(e.action, e.result) for e in await audit(owner_engine, denied["id"])] == [
            ("deny", "failure")
        ]
        fine = await post(
            client, auth, "/v1/tools/current_time/execute", arguments={}, persona_id=persona
        )
        assert fine["status"] == "succeeded" and fine["persona_id"] == persona
        other = await client.post(
            "/v1/tools/current_time/execute",
            headers=auth,
            json={"agent_id": agent, "persona_id": str(uuid.uuid4())},
        )
        assert other.json()["errors"][0]["field"] == "agent_id"

        # queued for an admin's override, then approved by one
        queued = await client.post(
            "/v1/tools/calculator/execute",
            headers=auth,
            json={"arguments": {"expression": "6 * 7"}, "agent_id": agent, "queue_if_denied": True},
        )
        assert queued.status_code == 202 and queued.json()["status"] == "awaiting_approval"
        member = await join(client, auth, f"m-{uuid.uuid4().hex[:8]}@example.com", "member")
        approving = f"/v1/tool-executions/{queued.json()['id']}/approve"
        assert (await client.post(approving, headers=member)).status_code == 403
        approved = await post(client, auth, approving)
        assert (approved["status"], approved["result"]["value"]) == ("succeeded", 42)
        assert approved["approved_by"] is not None
        assert (await client.post(approving, headers=auth)).status_code == 409  # decided

        # the agent's override: echo waits for approval; denied, it never runs
        waiting = await client.post(
            "/v1/tools/echo/execute",
            headers=auth,
            json={"arguments": {"word": "hi"}, "agent_id": agent},
        )
        assert waiting.status_code == 202
        refused = await post(client, auth, f"/v1/tool-executions/{waiting.json()['id']}/deny")
        assert refused["status"] == "denied" and refused["result"] is None
        actions = [e.action for e in await audit(owner_engine, refused["id"])]
        assert actions == ["request_approval", "deny"]
        listed = await client.get(
            "/v1/tool-executions", headers=auth, params={"status": "awaiting_approval"}
        )
        assert listed.json()["items"] == []


async def test_an_agents_tool_permissions_replace_its_personas_grants(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    async with running_app(urls, SETTINGS) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        builtins = await builtin_ids(client, auth)
        echo = await python_tool(client, auth, "echo")
        persona = (await post(client, auth, "/v1/personas", name="Keeper"))["id"]
        await post(client, auth, f"/v1/personas/{persona}/tools", tool_id=builtins["calculator"])
        typo = await client.post(
            "/v1/agents",
            headers=auth,
            json={"name": "k", "persona_id": persona, "tool_permissions": ["echo", "ecko"]},
        )
        assert typo.status_code == 422
        assert typo.json()["errors"][0]["field"] == "tool_permissions.1"
        agent = await post(
            client,
            auth,
            "/v1/agents",
            name="keeper-agent",
            persona_id=persona,
            tool_permissions=[echo, "current_time"],
        )
        assert agent["tool_permissions"] == [echo, "current_time"]

        async def usable(**who: str) -> set[str]:
            hits = await post(client, auth, "/v1/tools/search", task="anything", k=50, **who)
            return {h["name"] for h in hits}

        assert await usable(persona_id=persona) == {"calculator"}
        assert await usable(agent_id=agent["id"]) == {"echo", "current_time"}
        refused = await post(
            client,
            auth,
            "/v1/tools/calculator/execute",
            arguments={"expression": "1 + 1"},
            agent_id=agent["id"],
        )
        assert refused["status"] == "denied"
        ran = await post(
            client, auth, "/v1/tools/echo/execute", arguments={"word": "a"}, agent_id=agent["id"]
        )
        assert ran["status"] == "succeeded"

        # an activation still overrides tool by tool; null hands back to the persona
        await post(
            client,
            auth,
            f"/v1/agents/{agent['id']}/tool-activations",
            tool_id="echo",
            enabled=False,
        )
        assert await usable(agent_id=agent["id"]) == {"current_time"}
        cleared = await client.patch(
            f"/v1/agents/{agent['id']}", headers=auth, json={"tool_permissions": None}
        )
        assert cleared.is_success and cleared.json()["tool_permissions"] is None
        assert await usable(agent_id=agent["id"]) == {"calculator"}


async def test_secret_arguments_are_never_stored_nor_audited(
    urls: DatabaseUrls, fresh_owner: tuple[str, str], owner_engine: AsyncEngine
) -> None:
    async with running_app(urls, SETTINGS) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        await python_tool(client, auth, "signer")
        await python_tool(client, auth, "careful-signer", requires_approval=True)
        secret = "tok-" + uuid.uuid4().hex

        done = await post(
            client, auth, "/v1/tools/signer/execute", arguments={"word": "hi", "token": secret}
        )
        assert done["result"]["value"] == f"HI:{len(secret)}"
        assert done["arguments"] == {"word": "hi", "token": "[secret]"}
        start = (await audit(owner_engine, done["id"]))[0]
        assert start.action == "start" and start.event_data["arguments"] == ["token", "word"]

        waiting = await post(
            client,
            auth,
            "/v1/tools/careful-signer/execute",
            arguments={"word": "yo", "token": secret},
        )
        approving = f"/v1/tool-executions/{waiting['id']}/approve"
        missing = await client.post(approving, headers=auth)
        assert missing.json()["errors"][0]["field"] == "arguments.token"
        not_secret = await client.post(approving, headers=auth, json={"arguments": {"word": "x"}})
        assert not_secret.json()["errors"][0]["field"] == "arguments.word"
        approved = await post(client, auth, approving, arguments={"token": secret})
        assert approved["result"]["value"] == f"YO:{len(secret)}"

        async with owner_engine.connect() as conn:
            for table in ("tool_executions", "audit_events", "dead_letters"):
                leaked = await conn.execute(
                    text(f"SELECT count(*) FROM {table} t WHERE t::text LIKE :secret"),
                    {"secret": f"%{secret}%"},
                )
                assert leaked.scalar_one() == 0, table


async def test_discovery_finds_the_right_tool_in_the_top_three(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    settings = SETTINGS.model_copy(update={"embedder": "minilm"})
    async with running_app(urls, settings) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        for name, description in TOOLS.items():
            await post(
                client,
                auth,
                "/v1/tools",
                name=name,
                description=description,
                code_type="http",
                endpoint=f"https://tools.example.com/{name}",
                schema={"type": "object"},
            )
        missed = []
        for task, wanted in TASKS:
            top = [h["name"] for h in await post(client, auth, "/v1/tools/search", task=task, k=3)]
            if wanted not in top:
                missed.append((task, wanted, top))
        assert not missed
        [hit] = await post(client, auth, "/v1/tools/search", task="Put on some jazz", k=1)
        assert hit["function"]["function"]["name"] == "music_play"
        assert hit["function"]["function"]["parameters"] == {"type": "object"}

        # a changed description is embedded again on the next search
        renamed = await client.get("/v1/tools", headers=auth, params={"limit": 500})
        music = next(t for t in renamed.json()["items"] if t["name"] == "music_play")
        await client.patch(
            f"/v1/tools/{music['id']}",
            headers=auth,
            json={"description": "Water the plants in the garden on a schedule."},
        )
        top = await post(client, auth, "/v1/tools/search", task="the garden is dry", k=1)
        assert top[0]["name"] == "music_play"
        disabled = await client.patch(
            f"/v1/tools/{music['id']}", headers=auth, json={"enabled": False}
        )
        assert disabled.is_success
        top = await post(client, auth, "/v1/tools/search", task="the garden is dry", k=3)
        assert "music_play" not in [t["name"] for t in top]
