"""Tools: the cost of running a tool through Personae against its raw limit.

What is measured, in one run on a throwaway embedded PostgreSQL, through the real app
(in-process ASGI, signed in with a bearer token):
- a no-op built-in (`calculator` on "1") executed through `POST /v1/tools/{name}/execute`
  (argument check, execution row, two audit events, commit) vs calling the function;
- a no-op python tool through the same route (the bubblewrap jail) vs starting the
  jail's interpreter bare (`python -I -S -c pass`); and the jail's own cost: the same
  tool run by the sandbox directly, in the jail and in the weaker process mode.
- discovery: `POST /v1/tools/search` (k=5) over 1,000 tools, with the installation's
  embedder (MiniLM when installed), vs its raw parts: embedding the task alone, and the
  bare nearest-neighbour query on the driver with that vector.
Last line: one JSON object.

    python bench/tools.py [--calls 200] [--sandboxed 50] [--tools 1000] [--searches 200]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import httpx

from personae.api.app import create_app
from personae.db.engine import DatabaseUrls
from personae.settings import Settings
from personae.startup import prepare_database
from personae.tools.builtins import calculator
from personae.tools.sandbox import Sandbox
from personae.vault.crypto import new_key
from throwaway import measure_and_report, new_tenant

NO_OP = "def main():\n    return None\n"
VERBS = [
    "Find",
    "Create",
    "Update",
    "Cancel",
    "Summarise",
    "Translate",
    "Export",
    "Check",
    "Schedule",
    "Estimate",
]
THINGS = [
    "invoices",
    "flight tickets",
    "hotel rooms",
    "support tickets",
    "weather reports",
    "calendar meetings",
    "stock prices",
    "parcel deliveries",
    "recipes",
    "song playlists",
    "tax returns",
    "car rentals",
    "doctor appointments",
    "news articles",
    "bank transfers",
    "gym workouts",
    "train timetables",
    "insurance claims",
    "job postings",
    "photo albums",
]
WHERE = [
    "for a customer",
    "in the warehouse",
    "for the finance team",
    "on a mobile phone",
    "across Europe",
]
TASKS = [
    "I need to fly to Madrid next week",
    "what will the weather be on Sunday",
    "move my dentist appointment",
    "where is my parcel",
    "cancel the car I rented",
    "send money to my landlord",
    "make a playlist for running",
    "file my taxes",
    "show me today's headlines",
    "book a table for two",
]


def _quantile(samples: list[float], q: float) -> float:
    return round(statistics.quantiles(samples, n=100)[int(q * 100) - 1], 3)


def _p50(samples: list[float]) -> float:
    return round(statistics.median(samples), 3)


async def _timed(n: int, call: Callable[[], Awaitable[Any]]) -> list[float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def run(urls: DatabaseUrls, args: argparse.Namespace) -> dict[str, Any]:
    created = await new_tenant(urls)
    master = new_key()
    await prepare_database(urls.owner, master)
    app = create_app(Settings(worker=False, log_level="warning"), urls, master_key=master)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://bench") as client,
    ):
        login = await client.post(
            "/v1/auth/login",
            json={"email": "bench@example.com", "password": created.one_time_password},
        )
        auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
        # the app loads its embedding model in the background as it starts: not while timing
        await app.state.services.embedders.default.embed(["warm up"])
        tool = {
            "name": "noop",
            "description": "Does nothing.",
            "code_type": "python",
            "code": NO_OP,
            "schema": {"type": "object", "properties": {}},
        }
        assert (await client.post("/v1/tools", headers=auth, json=tool)).status_code == 201

        async def through_api(name: str, arguments: dict[str, Any]) -> None:
            done = await client.post(
                f"/v1/tools/{name}/execute", headers=auth, json={"arguments": arguments}
            )
            assert done.json()["status"] == "succeeded", done.text

        await _timed(20, lambda: through_api("calculator", {"expression": "1"}))
        builtin = await _timed(args.calls, lambda: through_api("calculator", {"expression": "1"}))
        sandboxed = await _timed(args.sandboxed, lambda: through_api("noop", {}))
        discovery = await _discovery(client, auth, app.state.services.embedders.default, urls, args)

    async def direct() -> None:
        calculator("1")

    bare_call = await _timed(args.calls, direct)

    jail = Sandbox(Settings())
    weaker = Sandbox(Settings(tool_sandbox="process"))
    found = jail.check()
    assert found is not None
    jails_python = found.interpreter.executable  # as root: often not the server's own

    def bare(python: str) -> Callable[[], Awaitable[Any]]:
        return lambda: asyncio.to_thread(
            subprocess.run, [python, "-I", "-S", "-c", "pass"], check=True
        )

    async def in_the(sandbox: Sandbox) -> None:
        assert (await sandbox.run(NO_OP, "main", {})).succeeded

    bare_jails = await _timed(args.sandboxed, bare(jails_python))
    bare_own = await _timed(args.sandboxed, bare(sys.executable))  # the weaker mode's
    jailed = await _timed(args.sandboxed, lambda: in_the(jail))
    unjailed = await _timed(args.sandboxed, lambda: in_the(weaker))
    jail_cost = _p50(jailed) - _p50(bare_jails)
    weaker_cost = _p50(unjailed) - _p50(bare_own)
    return {
        "builtin_execute_p50_ms": _p50(builtin),
        "builtin_direct_p50_ms": _p50(bare_call),
        "builtin_overhead_ms": round(_p50(builtin) - _p50(bare_call), 3),
        "sandbox_execute_p50_ms": _p50(sandboxed),
        "bare_interpreter_ms": _p50(bare_jails),
        "sandbox_overhead_ms": round(_p50(sandboxed) - _p50(bare_jails), 3),
        "jail_run_p50_ms": _p50(jailed),
        "process_mode_run_p50_ms": _p50(unjailed),
        "process_mode_bare_interpreter_ms": _p50(bare_own),
        # each mode over its own interpreter's bare start: what the jail itself adds
        "bubblewrap_ms": round(jail_cost - weaker_cost, 3),
        **discovery,
    }


async def _discovery(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    embedder: Any,
    urls: DatabaseUrls,
    args: argparse.Namespace,
) -> dict[str, Any]:
    rng = random.Random(7)
    combos = list(itertools.product(VERBS, THINGS, WHERE))
    rng.shuffle(combos)
    for i, (verb, thing, where) in enumerate(combos[: args.tools]):
        tool = {
            "name": f"tool_{i}",
            "description": f"{verb} {thing} {where}.",
            "code_type": "http",
            "endpoint": f"https://tools.example.com/{i}",
            "schema": {"type": "object"},
        }
        assert (await client.post("/v1/tools", headers=auth, json=tool)).status_code == 201

    async def search(task: str) -> None:
        found = await client.post("/v1/tools/search", headers=auth, json={"task": task, "k": 5})
        assert found.status_code == 200 and len(found.json()) == 5, found.text

    started = time.perf_counter()
    await search("warm up: embeds every description")
    first_s = time.perf_counter() - started
    tasks = [TASKS[i % len(TASKS)] + f" ({i})" for i in range(args.searches)]
    ours = []
    for task in tasks:
        t = time.perf_counter()
        await search(task)
        ours.append((time.perf_counter() - t) * 1000)
    embed_ms, vectors = [], []
    for task in tasks:
        t = time.perf_counter()
        [vector] = await embedder.embed([task])
        embed_ms.append((time.perf_counter() - t) * 1000)
        vectors.append("[" + ",".join(map(str, vector)) + "]")
    raw = await asyncpg.connect(
        urls.owner.replace("postgresql+asyncpg://", "postgresql://"),
        server_settings={"hnsw.iterative_scan": "relaxed_order"},
    )
    tenant = await raw.fetchval("SELECT id FROM tenants WHERE name = 'Bench'")
    sql = (
        "SELECT id, name, description, schema FROM tools WHERE tenant_id = $2 "
        "AND deleted_at IS NULL AND enabled ORDER BY description_embedding <=> $1::vector LIMIT 5"
    )
    query_ms = []
    for vector in vectors:
        t = time.perf_counter()
        await raw.fetch(sql, vector, tenant)
        query_ms.append((time.perf_counter() - t) * 1000)
    await raw.close()
    raw_p95 = _quantile(embed_ms, 0.95) + _quantile(query_ms, 0.95)
    return {
        "discovery_tools": args.tools,
        "discovery_first_search_s": round(first_s, 2),
        "discovery_p50_ms": _p50(ours),
        "discovery_p95_ms": _quantile(ours, 0.95),
        "discovery_embed_p95_ms": _quantile(embed_ms, 0.95),
        "discovery_raw_query_p95_ms": _quantile(query_ms, 0.95),
        "discovery_ratio": round(_quantile(ours, 0.95) / raw_p95, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--sandboxed", type=int, default=50)
    parser.add_argument("--tools", type=int, default=1000)
    parser.add_argument("--searches", type=int, default=200)
    args = parser.parse_args()
    measure_and_report(lambda urls: run(urls, args))


if __name__ == "__main__":
    main()
