"""Sliding-window limits on sign-in attempts, per account and per address.

With a Redis-protocol server configured, every process counts in the same windows there
(keys `ratelimit:<name>:<sha-256 of the key>`, so no email lands in Redis); while it can't
be reached, and with no server configured, each process keeps its own windows."""

from __future__ import annotations

import hashlib
import time
from collections import deque

from personae.cache import Guarded
from personae.errors import RateLimited


class SlidingWindow:
    def __init__(self, limit: int, window_s: float, *, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.window_s = window_s
        self.max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}

    def hit(self, key: str, *, what: str) -> None:
        """Count one attempt for `key`; raise RateLimited (with Retry-After) past the limit."""
        now = time.monotonic()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window_s:
            hits.popleft()
        if len(hits) >= self.limit:
            retry_after = hits[0] + self.window_s - now
            raise RateLimited(f"too many {what}; try again later", retry_after=retry_after)
        hits.append(now)
        if len(self._hits) > self.max_keys:
            self._forget_idle(now)

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window_s]:
            del self._hits[key]


class SharedWindow:
    """`limit` hits per `window_s` per key, counted in the cache store when it answers."""

    def __init__(self, cache: Guarded, name: str, limit: int, window_s: float) -> None:
        self.cache = cache
        self.name = name
        self.local = SlidingWindow(limit, window_s)

    async def hit(self, key: str, *, what: str) -> None:
        """Count one attempt for `key`; raise RateLimited (with Retry-After) past the limit."""
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        wait = await self.cache.hit(
            f"ratelimit:{self.name}:{digest}", self.local.limit, self.local.window_s
        )
        if wait is None:
            self.local.hit(key, what=what)
        elif wait > 0:
            raise RateLimited(f"too many {what}; try again later", retry_after=wait)
