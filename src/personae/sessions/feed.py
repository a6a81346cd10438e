"""Wakes the live streams of a session when its log grows, and hands them what passes
without being logged (a reply's tokens as the model produces them).

Fed through the process's listener by two channels:
- `personae_session_events`, `'<session id>:<last seq>'` (migration 0008, on every
  append): a stream reads the new events from the database itself, so a notification is
  only a wake-up call and a missed one costs nothing but latency;
- `personae_session_passing`, `{"session": id, "event": name, "data": {...}}`
  (`pass_on`): the event itself, for the watchers of that session in every process. It
  has no seq and is not kept: a watcher that connects later, or whose process lost its
  listener meanwhile, never sees it (the logged events say the same, whole)."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

CHANNEL = "personae_session_events"
PASSING_CHANNEL = "personae_session_passing"
PASSING_BYTES = 7_000
"""The largest payload `pass_on` sends (PostgreSQL refuses one of 8,000 bytes)."""
KEPT = 1_000
"""Passing events a slow watcher may fall behind by; older ones are dropped."""

_PASS = text(f"SELECT pg_notify('{PASSING_CHANNEL}', :payload)")
log = logging.getLogger(__name__)


@dataclass(eq=False)  # each watch is itself: hashed by identity
class Watch:
    """One live stream of a session."""

    wake: asyncio.Event = field(default_factory=asyncio.Event)
    """Set whenever the log may have grown or something passed (clear it, then read)."""
    passing: deque[tuple[str, dict[str, Any]]] = field(default_factory=lambda: deque(maxlen=KEPT))
    """What passed since last taken: (event, data)."""

    def take(self) -> list[tuple[str, dict[str, Any]]]:
        taken = list(self.passing)
        self.passing.clear()
        return taken


class Feed:
    def __init__(self) -> None:
        self._watching: dict[str, set[Watch]] = {}
        self.closing = False
        """Set as the server begins to stop: every stream ends (its client reconnects to
        another process, or to this one restarted, with `Last-Event-ID`)."""

    @contextmanager
    def subscribe(self, session_id: uuid.UUID) -> Iterator[Watch]:
        watch = Watch()
        key = str(session_id)
        self._watching.setdefault(key, set()).add(watch)
        try:
            yield watch
        finally:
            watching = self._watching.get(key)
            if watching is not None:
                watching.discard(watch)
                if not watching:
                    del self._watching[key]

    def notified(self, payload: str) -> None:
        session_id, _, _seq = payload.partition(":")
        for watch in self._watching.get(session_id, ()):
            watch.wake.set()

    def passed(self, payload: str) -> None:
        try:
            message = json.loads(payload)
            session_id, event, data = message["session"], message["event"], message["data"]
        except (ValueError, KeyError, TypeError):
            log.warning("a malformed notification on %s", PASSING_CHANNEL)
            return
        for watch in self._watching.get(session_id, ()):
            watch.passing.append((event, data))
            watch.wake.set()

    def wake_all(self) -> None:
        """Notifications may have been lost (the listener reconnected): everyone re-reads."""
        for watching in self._watching.values():
            for watch in watching:
                watch.wake.set()

    def close(self) -> None:
        """End every live stream, now and from now on."""
        self.closing = True
        self.wake_all()

    @property
    def streams(self) -> int:
        return sum(len(watching) for watching in self._watching.values())


async def pass_on(
    session: AsyncSession, session_id: uuid.UUID, event: str, data: dict[str, Any]
) -> None:
    """Hand `event` to the session's live watchers in every process when `session`
    commits. Raises ValueError if it is too large to send (split it first)."""
    payload = json.dumps({"session": str(session_id), "event": event, "data": data})
    if len(payload.encode()) > PASSING_BYTES:
        raise ValueError(f"a passing event is limited to {PASSING_BYTES} bytes")
    await session.execute(_PASS, {"payload": payload})
