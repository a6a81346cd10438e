"""PostgreSQL LISTEN/NOTIFY: one connection per process, fanned out to subscribers.

Subscribers register a callback per channel. When the connection drops, notifications sent
meanwhile are lost, so every subscriber's `on_reset` runs twice: when the loss is noticed
(stop trusting what you cached) and once listening again (catch up from the database)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

Callback = Callable[[str], None]


@dataclass
class _Subscription:
    channel: str
    on_message: Callback
    on_reset: Callable[[], None] | None = None


@dataclass
class Listener:
    """Keeps one LISTEN connection open (reconnecting with backoff) for the whole process."""

    engine: AsyncEngine
    reconnect_delay_s: float = 0.5
    max_reconnect_delay_s: float = 10.0
    keepalive_s: float = 30.0
    _subscriptions: list[_Subscription] = field(default_factory=list)
    _connection: AsyncConnection | None = None
    _driver: Any = None
    _task: asyncio.Task[None] | None = None
    _lost: asyncio.Event = field(default_factory=asyncio.Event)
    _ready: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def connected(self) -> bool:
        return self._ready.is_set()

    def subscribe(
        self, channel: str, on_message: Callback, on_reset: Callable[[], None] | None = None
    ) -> Callable[[], None]:
        """Call `on_message(payload)` for each notification on `channel`; returns unsubscribe.

        Subscribe before `start()`: channels added later are listened to from the next
        (re)connection on."""
        subscription = _Subscription(channel, on_message, on_reset)
        self._subscriptions.append(subscription)
        return lambda: self._subscriptions.remove(subscription)

    async def start(self, *, wait_s: float = 5.0) -> None:
        """Connect in the background; wait up to `wait_s` for the first connection."""
        self._task = asyncio.create_task(self._run(), name="personae-listener")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), wait_s)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._close()

    @property
    def backend_pid(self) -> int | None:
        """The server process id of the listening connection (for operators and tests)."""
        return None if self._driver is None else int(self._driver.get_server_pid())

    async def _run(self) -> None:
        delay = self.reconnect_delay_s
        failing = False  # logged once when the link fails, once when it is back
        while True:
            try:
                await self._connect()
                delay = self.reconnect_delay_s
                if failing:
                    failing = False
                    log.warning("LISTEN connection back")
                while not self._lost.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._lost.wait(), self.keepalive_s)
                    if not self._lost.is_set():  # quiet for a while: is the link still there?
                        await asyncio.wait_for(self._driver.execute("SELECT 1"), 5.0)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # any failure: log (without the URL) and retry
                if not failing:
                    failing = True
                    log.warning(
                        "LISTEN connection unavailable (%s); retrying", type(error).__name__
                    )
            self._mark_lost()
            await self._close()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_reconnect_delay_s)

    async def _connect(self) -> None:
        self._lost.clear()
        self._connection = await self.engine.connect()
        raw = await self._connection.get_raw_connection()
        self._driver = raw.driver_connection
        self._driver.add_termination_listener(lambda _connection: self._lost.set())
        for channel in sorted({s.channel for s in self._subscriptions}):
            await self._driver.add_listener(channel, self._dispatch)
        self._ready.set()
        self._reset()

    def _dispatch(self, _connection: Any, _pid: int, channel: str, payload: str) -> None:
        for subscription in list(self._subscriptions):
            if subscription.channel == channel:
                subscription.on_message(payload)

    def _mark_lost(self) -> None:
        if self._ready.is_set():
            self._ready.clear()
            self._reset()

    def _reset(self) -> None:
        for subscription in list(self._subscriptions):
            if subscription.on_reset is not None:
                subscription.on_reset()

    async def _close(self) -> None:
        connection, self._connection, self._driver = self._connection, None, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.invalidate()
            with contextlib.suppress(Exception):
                await connection.close()
