"""A sliding-window limiter held in this process (one window per key).

Used for sign-in attempts per account and per address. Several API processes each keep
their own windows; a shared store arrives with the Redis-protocol cache."""

from __future__ import annotations

import time
from collections import deque

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
