"""Real `personae serve` processes on one database: two appending to one session at once,
and one killed with SIGKILL in the middle of a stream of appends."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from personae.db.engine import DatabaseUrls
from personae.vault.crypto import encode_key
from tests.api.conftest import MASTER_KEY, new_tenant
from tests.serving import free_port, serving, wait_healthy

OWNER = "owner@processes.example.com"


@contextmanager
def api_process(
    urls: DatabaseUrls, data_dir: Path
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`personae serve` on the test database: (base URL, process)."""
    port = free_port()
    env = {
        "PERSONAE_DATABASE_URL": urls.owner,
        "PERSONAE_APP_DATABASE_URL": urls.app,
        "PERSONAE_MASTER_KEY": encode_key(MASTER_KEY),
        "PERSONAE_WORKER": "false",
        "PERSONAE_LOG_LEVEL": "warning",
    }
    with serving(data_dir, port, **env) as process:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, process, timeout_s=30)
        yield base, process


@pytest.fixture(scope="module")
async def password(owner_engine: AsyncEngine, app_engine: AsyncEngine) -> str:
    created = await new_tenant(owner_engine, app_engine, "processes", OWNER)
    assert created.one_time_password
    return created.one_time_password


async def sign_in(base: str, password: str) -> dict[str, str]:
    async with httpx.AsyncClient(base_url=base) as client:
        response = await client.post("/v1/auth/login", json={"email": OWNER, "password": password})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def all_events(
    client: httpx.AsyncClient, sid: str, auth: dict[str, str]
) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    after: int | None = 0
    while after is not None:
        page = await client.get(
            f"/v1/sessions/{sid}/events", headers=auth, params={"after": after, "limit": 1000}
        )
        assert page.status_code == 200, page.text
        events += page.json()["items"]
        after = page.json()["next_after"]
    return events


async def test_two_processes_appending_with_expected_seq_lose_and_repeat_nothing(
    urls: DatabaseUrls, password: str, tmp_path: Path
) -> None:
    per_writer = 1000
    with ExitStack() as stack:
        first, _ = stack.enter_context(api_process(urls, tmp_path / "a"))
        second, _ = stack.enter_context(api_process(urls, tmp_path / "b"))
        auth = await sign_in(first, password)
        async with httpx.AsyncClient(base_url=first) as client:
            made = await client.post("/v1/sessions", headers=auth, json={"title": "race"})
            sid, start = made.json()["id"], made.json()["last_seq"]

        async def writer(base: str, name: str) -> int:
            conflicts, last = 0, start
            async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                for index in range(per_writer):
                    event = {"event_type": "note", "payload": {"text": f"{name}-{index}"}}
                    while True:
                        response = await client.post(
                            f"/v1/sessions/{sid}/events",
                            headers=auth,
                            json={"events": [event], "expected_seq": last},
                        )
                        if response.status_code == 201:
                            last = response.json()["last_seq"]
                            break
                        assert response.status_code == 409, response.text
                        last = response.json()["last_seq"]
                        conflicts += 1
            return conflicts

        conflicts = await asyncio.gather(writer(first, "a"), writer(second, "b"))
        async with httpx.AsyncClient(base_url=second) as client:
            events = await all_events(client, sid, auth)
            shown = (await client.get(f"/v1/sessions/{sid}", headers=auth)).json()

    notes = [e for e in events if e["event_type"] == "note"]
    assert len(notes) == 2 * per_writer
    assert [e["seq"] for e in events] == list(range(1, 2 * per_writer + start + 1))
    assert shown["last_seq"] == 2 * per_writer + start
    for name in "ab":
        mine = [e["payload"]["text"] for e in notes if e["payload"]["text"].startswith(name)]
        assert mine == [f"{name}-{i}" for i in range(per_writer)]  # each once, in order
    assert sum(conflicts) > 0, "the writers never raced: the test proves nothing"


async def test_acknowledged_appends_survive_a_sigkill(
    urls: DatabaseUrls, password: str, tmp_path: Path
) -> None:
    acknowledged: list[tuple[int, str]] = []
    enough = asyncio.Event()
    with api_process(urls, tmp_path / "a") as (base, process):
        auth = await sign_in(base, password)
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            sid = (await client.post("/v1/sessions", headers=auth, json={})).json()["id"]

            async def append_forever(name: str) -> None:
                index = 0
                while True:
                    text = f"{name}-{index}"
                    try:
                        response = await client.post(
                            f"/v1/sessions/{sid}/events",
                            headers=auth,
                            json={"events": [{"event_type": "note", "payload": {"text": text}}]},
                        )
                    except httpx.TransportError:
                        return  # the server is gone: this append was never acknowledged
                    assert response.status_code == 201, response.text
                    acknowledged.append((response.json()["last_seq"], text))
                    if len(acknowledged) >= 300:
                        enough.set()
                    index += 1

            writers = [asyncio.create_task(append_forever(n)) for n in "abcd"]
            await asyncio.wait_for(enough.wait(), 60)
            process.send_signal(signal.SIGKILL)  # mid-stream: appends are in flight
            await asyncio.gather(*writers)
        process.wait(timeout=10)
        assert process.returncode == -signal.SIGKILL

    with api_process(urls, tmp_path / "b") as (base, _process):
        auth = await sign_in(base, password)
        async with httpx.AsyncClient(base_url=base) as client:
            events = await all_events(client, sid, auth)
    stored = {e["seq"]: e["payload"].get("text") for e in events}
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))  # no gaps
    for seq, text in acknowledged:
        assert stored.get(seq) == text, f"acknowledged event {seq} ({text}) was lost"
    assert len(acknowledged) >= 300
