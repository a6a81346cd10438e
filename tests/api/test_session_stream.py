"""Live streams over a real HTTP server: every event once, in order; resuming with
Last-Event-ID gives exactly the missed events; many clients at once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx

from personae.db.engine import DatabaseUrls
from personae.settings import Settings
from tests.api.conftest import bearer, served
from tests.waiting import soon

OWNER = "owner@stream.example.com"


async def sse(response: httpx.Response) -> AsyncIterator[tuple[int | None, str, dict[str, object]]]:
    """(id, event, data) per event; comment lines are yielded as (None, 'comment', {})."""
    fields: dict[str, str] = {}
    async for line in response.aiter_lines():
        if line.startswith(":"):
            yield None, "comment", {}
        elif line == "":
            if fields:
                yield int(fields["id"]), fields["event"], json.loads(fields["data"])
                fields = {}
        else:
            name, _, value = line.partition(": ")
            fields[name] = value


async def append(client: httpx.AsyncClient, path: str, auth: dict[str, str], *texts: str) -> None:
    events = [{"event_type": "message.user", "payload": {"content": t}} for t in texts]
    response = await client.post(path, headers=auth, json={"events": events})
    assert response.status_code == 201, response.text


async def collect(
    client: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
    until_seq: int,
    connected: asyncio.Event | None = None,
) -> list[int]:
    """The seqs a stream shows up to `until_seq`; `connected` is set once it is subscribed
    (its first comment)."""
    seen: list[int] = []
    async with client.stream("GET", url, headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        async for seq, _event, data in sse(response):
            if seq is None:
                if connected is not None:
                    connected.set()
                continue
            assert data["seq"] == seq
            seen.append(seq)
            if seq >= until_seq:
                break
    return seen


async def test_resume_gets_exactly_the_missed_events(
    urls: DatabaseUrls, owner_password: str
) -> None:
    async with (
        served(urls, Settings(sse_heartbeat_s=0.2)) as (_app, base),
        httpx.AsyncClient(base_url=base, timeout=10) as client,
    ):
        auth = await bearer(client, OWNER, owner_password)
        session = (await client.post("/v1/sessions", headers=auth, json={})).json()
        path = f"/v1/sessions/{session['id']}"
        await append(client, f"{path}/events", auth, "a", "b")

        connected = asyncio.Event()
        first = asyncio.create_task(collect(client, f"{path}/stream", auth, 5, connected))
        await asyncio.wait_for(connected.wait(), 10)
        await append(client, f"{path}/events", auth, "c", "d")
        assert await first == [1, 2, 3, 4, 5]

        await append(client, f"{path}/events", auth, "e", "f", "g")  # while away
        connected = asyncio.Event()
        resumed = asyncio.create_task(
            collect(client, f"{path}/stream", {**auth, "Last-Event-ID": "5"}, 9, connected)
        )
        await asyncio.wait_for(connected.wait(), 10)
        await append(client, f"{path}/events", auth, "h")
        assert await resumed == [6, 7, 8, 9]
        after = await collect(client, f"{path}/stream?after=8", auth, 9)
        assert after == [9]


async def test_many_clients_and_heartbeats(urls: DatabaseUrls, owner_password: str) -> None:
    async with (
        served(urls, Settings(sse_heartbeat_s=0.1)) as (app, base),
        httpx.AsyncClient(base_url=base, timeout=10) as client,
    ):
        auth = await bearer(client, OWNER, owner_password)
        session = (await client.post("/v1/sessions", headers=auth, json={})).json()
        path = f"/v1/sessions/{session['id']}"
        readers = [
            asyncio.create_task(collect(client, f"{path}/stream", auth, 4)) for _ in range(5)
        ]
        await soon(lambda: app.state.services.feed.streams == 5)
        for text in ("x", "y", "z"):
            await append(client, f"{path}/events", auth, text)
        assert [await r for r in readers] == [[1, 2, 3, 4]] * 5

        comments = 0
        async with client.stream("GET", f"{path}/stream?after=4", headers=auth) as response:
            async for seq, _event, _data in sse(response):
                assert seq is None  # nothing new: only the greeting and heartbeats
                comments += 1
                if comments == 3:
                    break
