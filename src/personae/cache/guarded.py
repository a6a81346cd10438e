"""A store that is skipped while it fails, and cleaned before it is trusted again.

Each call is bounded by `timeout_s`. After `failures_to_open` failures in a row the circuit
opens: for `retry_s` no call reaches the store (reads miss, writes are remembered as keys to
drop). Then one call tries it again; the remembered keys are deleted before anything else is
read, so an entry written before an outage is never served after a newer write."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TypeVar

from personae.cache.stores import Circuit, Store

log = logging.getLogger(__name__)
T = TypeVar("T")


class Guarded:
    def __init__(
        self,
        store: Store,
        *,
        timeout_s: float,
        retry_s: float,
        failures_to_open: int = 3,
        namespace: str = "*",
        max_pending: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.timeout_s = timeout_s
        self.retry_s = retry_s
        self.failures_to_open = failures_to_open
        self.namespace = namespace
        """The key pattern of every entry, dropped whole if too many writes were missed."""
        self.max_pending = max_pending
        self._clock = clock
        self._failures = 0
        self._open_until = 0.0
        self._pending: set[str] = set()
        self._overflowed = False
        self._lock = asyncio.Lock()

    @property
    def closed(self) -> bool:
        """Whether the store is in use (no failures pending)."""
        return self._failures < self.failures_to_open and not self._pending

    async def get(self, key: str, ttl_s: float) -> str | None:
        ok, value = await self._try(lambda: self.store.get(key, ttl_s))
        return value if ok else None

    async def members(self, key: str) -> set[str] | None:
        """The set's members; None when the store can't be asked."""
        ok, value = await self._try(lambda: self.store.members(key))
        return value if ok else None

    async def hit(self, key: str, limit: int, window_s: float) -> float | None:
        """The store's `hit`; None when the store can't be asked."""
        ok, wait = await self._try(lambda: self.store.hit(key, limit, window_s))
        return wait if ok else None

    async def spend(self, key: str, cost: int, limit: int, window_s: float) -> float | None:
        """The store's `spend`; None when the store can't be asked."""
        ok, wait = await self._try(lambda: self.store.spend(key, cost, limit, window_s))
        return wait if ok else None

    async def circuit(
        self, key: str, event: Circuit, threshold: int, span_s: float
    ) -> tuple[int, float] | None:
        """The store's `circuit`; None when the store can't be asked."""
        ok, found = await self._try(lambda: self.store.circuit(key, event, threshold, span_s))
        return found if ok else None

    async def put_if_newer(
        self,
        key: str,
        seq: int,
        data: str,
        ttl_s: float,
        *,
        member: str = "",
        add_to: Sequence[str] = (),
        remove_from: Sequence[str] = (),
    ) -> None:
        await self._write(
            lambda: self.store.put_if_newer(
                key, seq, data, ttl_s, member=member, add_to=add_to, remove_from=remove_from
            ),
            [key, *add_to, *remove_from],
        )

    async def add(self, key: str, members: Iterable[str], ttl_s: float) -> None:
        await self._write(lambda: self.store.add(key, members, ttl_s), [key])

    async def delete(self, keys: Iterable[str]) -> None:
        keys = list(keys)
        await self._write(lambda: self.store.delete(keys), keys)

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self.store.close(), self.timeout_s)
        except Exception:  # closing a dead connection: nothing left to do
            log.debug("cache store did not close cleanly", exc_info=True)

    async def _write(self, call: Callable[[], Awaitable[object]], keys: list[str]) -> None:
        ok, _ = await self._try(call)
        if not ok:
            self._remember(keys)

    async def _try(self, call: Callable[[], Awaitable[T]]) -> tuple[bool, T | None]:
        if not await self._usable():
            return False, None
        try:
            async with asyncio.timeout(self.timeout_s):  # no extra task, unlike wait_for
                result = await call()
        except Exception as error:  # down, slow or refusing: PostgreSQL answers instead
            self._failed(error)
            return False, None
        self._failures = 0
        return True, result

    async def _usable(self) -> bool:
        if self._failures >= self.failures_to_open and self._clock() < self._open_until:
            return False
        if not self._pending and not self._overflowed:
            return True
        async with self._lock:  # one caller drops what was missed; the others wait for it
            return await self._drop_pending()

    async def _drop_pending(self) -> bool:
        try:
            if self._overflowed:  # too much was missed to remember: drop every entry
                await asyncio.wait_for(self.store.drop_matching(self.namespace), self.retry_s)
                self._overflowed = False
            pending = list(self._pending)
            if pending:
                await asyncio.wait_for(self.store.delete(pending), self.timeout_s)
                self._pending.difference_update(pending)
        except Exception as error:
            self._failed(error)
            return False
        self._failures = 0
        return True

    def _remember(self, keys: list[str]) -> None:
        if len(self._pending) + len(keys) > self.max_pending:
            self._pending.clear()
            self._overflowed = True
        else:
            self._pending.update(keys)

    def _failed(self, error: Exception) -> None:
        self._failures += 1
        if self._failures == self.failures_to_open:
            log.warning("cache unavailable (%s); using PostgreSQL alone", type(error).__name__)
        if self._failures >= self.failures_to_open:
            self._open_until = self._clock() + self.retry_s
