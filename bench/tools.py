"""Tools: the cost of running a tool through Personae against its raw limit.

What is measured, in one run on a throwaway embedded PostgreSQL, through the real app
(in-process ASGI, signed in with a bearer token):
- a no-op built-in (`calculator` on "1") executed through `POST /v1/tools/{name}/execute`
  (argument check, execution row, two audit events, commit) vs calling the function;
- a no-op python tool through the same route (the sandbox: a confined interpreter) vs
  starting a bare `python -I -S -c pass`.
Discovery (`POST /v1/tools/search`) is not built yet: no figure for it.
Last line: one JSON object.

    python bench/tools.py [--calls 200] [--sandboxed 50]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from personae.api.app import create_app
from personae.db.engine import DatabaseUrls
from personae.settings import Settings
from personae.startup import prepare_database
from personae.tools.builtins import calculator
from personae.vault.crypto import new_key
from throwaway import measure_and_report, new_tenant

NO_OP = "def main():\n    return None\n"


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

    async def direct() -> None:
        calculator("1")

    bare_call = await _timed(args.calls, direct)

    async def bare_interpreter() -> None:
        await asyncio.to_thread(
            subprocess.run, [sys.executable, "-I", "-S", "-c", "pass"], check=True
        )

    bare = await _timed(args.sandboxed, bare_interpreter)
    return {
        "builtin_execute_p50_ms": _p50(builtin),
        "builtin_direct_p50_ms": _p50(bare_call),
        "builtin_overhead_ms": round(_p50(builtin) - _p50(bare_call), 3),
        "sandbox_execute_p50_ms": _p50(sandboxed),
        "bare_interpreter_ms": _p50(bare),
        "sandbox_overhead_ms": round(_p50(sandboxed) - _p50(bare), 3),
        "discovery_p95_ms": None,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--sandboxed", type=int, default=50)
    args = parser.parse_args()
    measure_and_report(lambda urls: run(urls, args))


if __name__ == "__main__":
    main()
