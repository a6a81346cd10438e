"""Containment: python tools run in a confined process. A tool that loops forever,
allocates 10 GB, forks, prints without end, hunts for secrets in its environment or
opens a connection its policy forbids is stopped or denied, recorded as failed with the
reason, and the server stays healthy."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from personae.db.engine import DatabaseUrls
from personae.settings import Settings
from tests.api.conftest import bearer, running_app

SETTINGS = Settings(
    connect_timeout_s=2,
    embedder="hashing",
    tool_sandbox_wall_s=3,
    tool_sandbox_cpu_s=1,
    tool_output_bytes=100_000,
)
SCHEMA = {"type": "object", "properties": {"port": {"type": "integer"}}}
TOOLS = {
    "adds": "def main(port=0):\n    return sum(range(10))\n",
    "spins": "def main(port=0):\n    while True:\n        pass\n",
    "hoards": "def main(port=0):\n    return len(bytearray(10 * 2**30))\n",
    "forks": "import os\ndef main(port=0):\n    while True:\n        os.fork()\n",
    "shells": "import subprocess\ndef main(port=0):\n    return subprocess.run(['id']).args\n",
    "shouts": "def main(port=0):\n    while True:\n        print('x' * 10_000)\n",
    "unbinds": (
        "import resource\ndef main(port=0):\n"
        "    resource.setrlimit(resource.RLIMIT_CPU, (3600, 3600))\n"
    ),
    "snoops": "import os\ndef main(port=0):\n    return dict(os.environ)\n",
    "sleeps": "import time\ndef main(port=0):\n    time.sleep(600)\n",
    "calls": (
        "import socket\ndef main(port=0):\n"
        "    with socket.create_connection(('127.0.0.1', port), timeout=2):\n"
        "        return 'connected'\n"
    ),
}


async def register(
    client: httpx.AsyncClient, auth: dict[str, str], name: str, **extra: Any
) -> None:
    body = {
        "name": name,
        "description": f"The {name} tool.",
        "code_type": "python",
        "code": TOOLS[name],
        "schema": SCHEMA,
        **extra,
    }
    made = await client.post("/v1/tools", headers=auth, json=body)
    assert made.status_code == 201, made.text


async def execute(
    client: httpx.AsyncClient, auth: dict[str, str], name: str, **arguments: Any
) -> dict[str, Any]:
    done = await client.post(
        f"/v1/tools/{name}/execute", headers=auth, json={"arguments": arguments}
    )
    assert done.status_code == 200, done.text
    return dict(done.json())


async def test_python_tools_are_contained(
    urls: DatabaseUrls, fresh_owner: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-live-do-not-leak")
    async with running_app(urls, SETTINGS) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        for name in TOOLS:
            await register(client, auth, name)
        fine = await execute(client, auth, "adds")
        assert (fine["status"], fine["result"]["value"]) == ("succeeded", 45)

        expected = {
            "spins": ("failed", "CPU"),
            "hoards": ("failed", "out of memory"),
            "forks": ("failed", "refuses os.fork"),
            "shells": ("failed", "refuses"),
            "unbinds": ("failed", "refuses resource.setrlimit"),
            "shouts": ("failed", "printed more than 100000 bytes"),
            "sleeps": ("timed_out", "after 3 s"),
        }
        for name, (status, reason) in expected.items():
            outcome = await execute(client, auth, name)
            assert outcome["status"] == status, (name, outcome)
            assert reason in outcome["error"], (name, outcome)

        snooped = await execute(client, auth, "snoops")
        assert snooped["status"] == "succeeded"
        assert set(snooped["result"]["value"]) <= {"PATH", "LANG"}
        assert "sk-live-do-not-leak" not in str(snooped)

        listening = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
        port = listening.sockets[0].getsockname()[1]
        try:
            denied = await execute(client, auth, "calls", port=port)
            assert denied["status"] == "failed" and "refuses socket" in denied["error"]
            allowed = await client.patch(
                f"/v1/tools/{await tool_id(client, auth, 'calls')}",
                headers=auth,
                json={"settings": {"network": True}},
            )
            assert allowed.status_code == 200, allowed.text
            still = await execute(client, auth, "calls", port=port)
            assert still["status"] == "failed"  # the tenant's flag is off
            flag = {"enabled": True}
            assert (
                await client.put("/v1/flags/tool_sandbox_network", headers=auth, json=flag)
            ).status_code == 200
            reached = await execute(client, auth, "calls", port=port)
            assert (reached["status"], reached["result"]["value"]) == ("succeeded", "connected")
        finally:
            listening.close()

        assert (await client.get("/healthz")).status_code == 200


async def tool_id(client: httpx.AsyncClient, auth: dict[str, str], name: str) -> str:
    listed = await client.get("/v1/tools", headers=auth, params={"limit": 100})
    return str(next(t["id"] for t in listed.json()["items"] if t["name"] == name))
