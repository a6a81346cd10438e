"""Containment: python tools run in a bubblewrap jail. A tool that loops forever,
allocates 10 GB, forks without end, prints without end, hunts for secrets in its
environment or reaches for the network is stopped or refused, recorded as failed with the
reason, and the server stays healthy. The network, when allowed, is the egress proxy's
allow-list. (The attacks of a hostile tenant are in `tests/security/`.)"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
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
    tool_http_allowed_hosts=["127.0.0.1"],
)
SCHEMA = {"type": "object", "properties": {"port": {"type": "integer"}}}
TOOLS = {
    "adds": "def main(port=0):\n    return sum(range(10))\n",
    "spins": "def main(port=0):\n    while True:\n        pass\n",
    "hoards": "def main(port=0):\n    return len(bytearray(10 * 2**30))\n",
    "forks": "import os\ndef main(port=0):\n    while True:\n        os.fork()\n",
    "shells": (
        "import subprocess\ndef main(port=0):\n"
        "    return subprocess.run(['id', '-u'], capture_output=True, text=True).stdout\n"
    ),
    "shouts": "def main(port=0):\n    while True:\n        print('x' * 10_000)\n",
    "snoops": "import os\ndef main(port=0):\n    return dict(os.environ)\n",
    "sleeps": "import time\ndef main(port=0):\n    time.sleep(600)\n",
    "calls": (
        "import socket\ndef main(port=0):\n"
        "    with socket.create_connection(('127.0.0.1', port), timeout=2):\n"
        "        return 'connected'\n"
    ),
    "fetches": (
        "import urllib.request\ndef main(port=0):\n"
        "    url = f'http://127.0.0.1:{port}/'\n"
        "    return urllib.request.urlopen(url, timeout=5).read().decode()\n"
    ),
}


async def register(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    name: str,
    code: str | None = None,
    **extra: Any,
) -> None:
    body = {
        "name": name,
        "description": f"The {name} tool.",
        "code_type": "python",
        "code": code or TOOLS[name],
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


@asynccontextmanager
async def web_page(text: str) -> AsyncIterator[int]:
    """A plain HTTP server on 127.0.0.1 answering every request with `text`: its port."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        body = text.encode()
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


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
            "forks": ("failed", "Resource temporarily unavailable"),
            "shouts": ("failed", "printed more than 100000 bytes"),
            "sleeps": ("timed_out", "after 3 s"),
        }
        for name, (status, reason) in expected.items():
            outcome = await execute(client, auth, name)
            assert outcome["status"] == status, (name, outcome)
            assert reason in outcome["error"], (name, outcome)

        shell = await execute(client, auth, "shells")  # a process of its own is no escape
        assert (shell["status"], shell["result"]["value"]) == ("succeeded", "65534\n")
        snooped = await execute(client, auth, "snoops")
        assert snooped["status"] == "succeeded"
        assert set(snooped["result"]["value"]) <= {"PATH", "LANG", "HOME", "PWD"}
        assert "sk-live-do-not-leak" not in str(snooped)
        assert (await client.get("/healthz")).status_code == 200


async def test_the_network_is_the_egress_allow_list(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    async with running_app(urls, SETTINGS) as (_app, client), web_page("hello") as port:
        auth = await bearer(client, *fresh_owner)
        for name in ("calls", "fetches"):
            await register(client, auth, f"net_{name}", TOOLS[name], settings={"network": True})
        refused = await execute(client, auth, "net_fetches", port=port)
        assert refused["status"] == "failed"  # the tenant's flag is off: no way out
        flag = {"enabled": True}
        assert (
            await client.put("/v1/flags/tool_sandbox_network", headers=auth, json=flag)
        ).status_code == 200

        fetched = await execute(client, auth, "net_fetches", port=port)
        assert (fetched["status"], fetched["result"]["value"]) == ("succeeded", "hello")
        raw = await execute(client, auth, "net_calls", port=port)
        assert raw["status"] == "failed" and "Connection refused" in raw["error"]

        narrowed = await client.put(
            "/v1/settings/tenant/tool_http_allowed_hosts",
            headers=auth,
            json={"value": ["api.example.com"]},
        )
        assert narrowed.status_code == 200, narrowed.text
        off_list = await execute(client, auth, "net_fetches", port=port)
        assert off_list["status"] == "failed"
        assert "403" in off_list["error"], off_list


async def test_without_bubblewrap_python_tools_say_why(
    urls: DatabaseUrls,
    fresh_owner: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a machine without bwrap
    async with running_app(urls, SETTINGS) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        await register(client, auth, "adds")
        outcome = await execute(client, auth, "adds")
    assert outcome["status"] == "failed"
    assert "bubblewrap (bwrap) is not installed" in outcome["error"]
    assert outcome["attempt"] == 1  # not a failure that may pass


async def test_the_weaker_process_mode_still_guards(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    weaker = SETTINGS.model_copy(update={"tool_sandbox": "process"})
    async with running_app(urls, weaker) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        await register(client, auth, "adds")
        await register(client, auth, "forks")
        assert (await execute(client, auth, "adds"))["result"]["value"] == 45
        forked = await execute(client, auth, "forks")
    assert forked["status"] == "failed" and "refuses os.fork" in forked["error"]
