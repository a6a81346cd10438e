"""Wakes the live streams of a session when its log grows.

Fed by `NOTIFY personae_session_events, '<session id>:<last seq>'` (migration 0008) through
the process's listener; a stream reads the new events from the database itself, so a
notification is only a wake-up call and a missed one costs nothing but latency."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

CHANNEL = "personae_session_events"


class Feed:
    def __init__(self) -> None:
        self._waiting: dict[str, set[asyncio.Event]] = {}

    @contextmanager
    def subscribe(self, session_id: uuid.UUID) -> Iterator[asyncio.Event]:
        """An event set whenever the session's log may have grown (clear it, then read)."""
        wake = asyncio.Event()
        key = str(session_id)
        self._waiting.setdefault(key, set()).add(wake)
        try:
            yield wake
        finally:
            waiting = self._waiting.get(key)
            if waiting is not None:
                waiting.discard(wake)
                if not waiting:
                    del self._waiting[key]

    def notified(self, payload: str) -> None:
        session_id, _, _seq = payload.partition(":")
        for wake in self._waiting.get(session_id, ()):
            wake.set()

    def wake_all(self) -> None:
        """Notifications may have been lost (the listener reconnected): everyone re-reads."""
        for waiting in self._waiting.values():
            for wake in waiting:
                wake.set()

    @property
    def streams(self) -> int:
        return sum(len(waiting) for waiting in self._waiting.values())
