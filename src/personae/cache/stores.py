"""Where cache entries live: a Redis-protocol server, or this process's memory.

An entry is a string `"<seq>:<data>"`: `put_if_newer` never replaces an entry with one of a
lower seq, so writers racing each other leave the newest state, and it moves the entry in
or out of sets in the same step. Reads slide the expiry. (With Redis Cluster, an entry and
its sets would have to share a hash slot; only single servers are supported.)"""

from __future__ import annotations

import fnmatch
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import redis.asyncio as redis

PUT_IF_NEWER = """
local current = redis.call('GET', KEYS[1])
if current then
  local seq = tonumber(string.match(current, '^(%d+):'))
  if seq and seq > tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. ARGV[2], 'PX', ARGV[3])
local joins = tonumber(ARGV[5])
for i = 2, 1 + joins do
  redis.call('SADD', KEYS[i], ARGV[4])
  redis.call('PEXPIRE', KEYS[i], ARGV[3])
end
for i = 2 + joins, #KEYS do
  redis.call('SREM', KEYS[i], ARGV[4])
end
return 1
"""

HIT = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return tonumber(oldest[2]) + window - now_ms
end
redis.call('ZADD', KEYS[1], now_ms, now[1] .. now[2] .. ':' .. ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return 0
"""

SPEND = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local limit, window, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms - window)
local spent = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local used = 0
for i = 1, #spent, 2 do used = used + tonumber(string.match(spent[i], ':(%d+)$')) end
if used + cost > limit then
  local over = used + cost - limit
  for i = 1, #spent, 2 do
    over = over - tonumber(string.match(spent[i], ':(%d+)$'))
    if over <= 0 then return tonumber(spent[i + 1]) + window - now_ms end
  end
  return window
end
redis.call('ZADD', KEYS[1], now_ms, now[1] .. now[2] .. ARGV[4] .. ':' .. cost)
redis.call('PEXPIRE', KEYS[1], window)
return 0
"""

CIRCUIT = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local event, threshold, span = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
if event == 'succeeded' then
  redis.call('DEL', KEYS[1])
elseif event == 'released' then
  redis.call('HDEL', KEYS[1], 'trial_until')
elseif event == 'failed' then
  local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
  redis.call('HDEL', KEYS[1], 'trial_until')
  if failures >= threshold then redis.call('HSET', KEYS[1], 'open_until', now_ms + span) end
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
else
  local state = redis.call('HMGET', KEYS[1], 'failures', 'open_until', 'trial_until')
  local failures = tonumber(state[1]) or 0
  if failures < threshold then return {0, 0} end
  local wait = (tonumber(state[2]) or 0) - now_ms
  if wait > 0 or (tonumber(state[3]) or 0) > now_ms then return {failures, math.max(wait, 0)} end
  redis.call('HSET', KEYS[1], 'trial_until', now_ms + span)
end
return {0, 0}
"""
CIRCUIT_MEMORY_S = 86_400.0
"""How long a circuit's failures are remembered after the last one."""
Circuit = Literal["ask", "failed", "succeeded", "released"]


def newer(current: str | None, seq: int) -> bool:
    """Whether an entry of `seq` may replace `current`."""
    if current is None:
        return True
    head, _, _ = current.partition(":")
    return not head.isdigit() or int(head) <= seq


class Store(Protocol):
    """The few operations the caches need; every one may raise on a store failure."""

    async def get(self, key: str, ttl_s: float) -> str | None:
        """The entry, its expiry slid to `ttl_s` from now."""

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
    ) -> bool:
        """Store `data` unless the entry holds a higher seq; if stored, add `member` to the
        sets `add_to` (sliding their expiry) and remove it from `remove_from`."""

    async def delete(self, keys: Iterable[str]) -> None: ...

    async def add(self, key: str, members: Iterable[str], ttl_s: float) -> None:
        """Add `members` to the set `key`, sliding its expiry."""

    async def members(self, key: str) -> set[str]: ...

    async def drop_matching(self, pattern: str) -> None:
        """Delete every key matching the glob `pattern`."""

    async def hit(self, key: str, limit: int, window_s: float) -> float:
        """Count one hit in the sliding window `key` unless `limit` hits are already in it:
        0.0 when counted, else the seconds until one leaves the window."""

    async def spend(self, key: str, cost: int, limit: int, window_s: float) -> float:
        """Spend `cost` of `limit` per `window_s` under `key`: 0 when spent, else the
        seconds until enough of the window frees up (nothing spent). A cost over the
        limit counts as the limit."""

    async def circuit(
        self, key: str, event: Circuit, threshold: int, span_s: float
    ) -> tuple[int, float]:
        """One step of the circuit breaker `key`. "ask": (0, 0) when a call may go through
        (it takes the one trial call, held for `span_s`, once the circuit's cooldown is
        over), else (failures, seconds of cooldown left, 0 while a trial call is out).
        "failed" counts a failure, opening the circuit for `span_s` from `threshold` on;
        "succeeded" closes it; "released" ends a trial call that proved nothing."""

    async def close(self) -> None: ...


class RedisStore:
    """Any Redis-protocol server (Redis, Valkey, …) through redis-py's asyncio client."""

    def __init__(self, url: str, *, timeout_s: float, max_connections: int = 50) -> None:
        self._client = redis.Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            max_connections=max_connections,
            retry_on_timeout=False,
        )
        self._put = self._client.register_script(PUT_IF_NEWER)
        self._hit = self._client.register_script(HIT)
        self._spend = self._client.register_script(SPEND)
        self._circuit = self._client.register_script(CIRCUIT)

    async def get(self, key: str, ttl_s: float) -> str | None:
        value = await self._client.getex(key, px=_ms(ttl_s))
        return value if value is None or isinstance(value, str) else value.decode()

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
    ) -> bool:
        keys = [key, *add_to, *remove_from]
        return bool(await self._put(keys=keys, args=[seq, data, _ms(ttl_s), member, len(add_to)]))

    async def delete(self, keys: Iterable[str]) -> None:
        keys = list(keys)
        if keys:
            await self._client.delete(*keys)

    async def add(self, key: str, members: Iterable[str], ttl_s: float) -> None:
        async with self._client.pipeline(transaction=False) as pipe:
            pipe.sadd(key, *members)
            pipe.pexpire(key, _ms(ttl_s))
            await pipe.execute()

    async def members(self, key: str) -> set[str]:
        found = await self._client.smembers(key)
        return {m if isinstance(m, str) else m.decode() for m in found}

    async def hit(self, key: str, limit: int, window_s: float) -> float:
        wait_ms = await self._hit(keys=[key], args=[limit, _ms(window_s), secrets.token_hex(4)])
        return max(0.0, float(wait_ms) / 1000)

    async def spend(self, key: str, cost: int, limit: int, window_s: float) -> float:
        args: list[int | str] = [limit, _ms(window_s), min(cost, limit), secrets.token_hex(4)]
        wait_ms = await self._spend(keys=[key], args=args)
        return max(0.0, float(wait_ms) / 1000)

    async def circuit(
        self, key: str, event: Circuit, threshold: int, span_s: float
    ) -> tuple[int, float]:
        args = [event, threshold, _ms(span_s), _ms(CIRCUIT_MEMORY_S)]
        failures, wait_ms = await self._circuit(keys=[key], args=args)
        return int(failures), float(wait_ms) / 1000

    async def drop_matching(self, pattern: str) -> None:
        batch: list[str] = []
        async for key in self._client.scan_iter(match=pattern, count=1000):
            batch.append(key)
            if len(batch) == 1000:
                await self._client.unlink(*batch)
                batch.clear()
        if batch:
            await self._client.unlink(*batch)

    async def close(self) -> None:
        await self._client.aclose()


@dataclass
class _Circuit:
    failures: int = 0
    open_until: float = 0.0
    trial_until: float = 0.0
    last_failure: float = 0.0


class MemoryStore:
    """One process's cache, least recently used first out past `max_entries`."""

    def __init__(self, max_entries: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, str | set[str]]] = OrderedDict()
        self._windows: dict[str, deque[float]] = {}
        self._spent: dict[str, deque[tuple[float, int]]] = {}
        self._circuits: OrderedDict[str, _Circuit] = OrderedDict()

    def _live(self, key: str) -> str | set[str] | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= self._clock():
            del self._entries[key]
            return None
        return entry[1]

    def _keep(self, key: str, value: str | set[str], ttl_s: float) -> None:
        self._entries[key] = (self._clock() + ttl_s, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    async def get(self, key: str, ttl_s: float) -> str | None:
        value = self._live(key)
        if not isinstance(value, str):
            return None
        self._keep(key, value, ttl_s)
        return value

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
    ) -> bool:
        current = self._live(key)
        if not newer(current if isinstance(current, str) else None, seq):
            return False
        self._keep(key, f"{seq}:{data}", ttl_s)
        for set_key in add_to:
            await self.add(set_key, [member], ttl_s)
        for set_key in remove_from:
            members = self._live(set_key)
            if isinstance(members, set):
                members.discard(member)
        return True

    async def delete(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._entries.pop(key, None)

    async def add(self, key: str, members: Iterable[str], ttl_s: float) -> None:
        current = self._live(key)
        kept = current if isinstance(current, set) else set()
        kept.update(members)
        self._keep(key, kept, ttl_s)

    async def members(self, key: str) -> set[str]:
        current = self._live(key)
        return set(current) if isinstance(current, set) else set()

    async def hit(self, key: str, limit: int, window_s: float) -> float:
        now = self._clock()
        current = self._windows.setdefault(key, deque())
        while current and current[0] <= now - window_s:
            current.popleft()
        if len(current) >= limit:
            return current[0] + window_s - now
        current.append(now)
        if len(self._windows) > self.max_entries:
            for idle in [
                k for k, hits in self._windows.items() if not hits or hits[-1] <= now - window_s
            ]:
                del self._windows[idle]
        return 0.0

    async def spend(self, key: str, cost: int, limit: int, window_s: float) -> float:
        now, cost = self._clock(), min(cost, limit)
        spent = self._spent.setdefault(key, deque())
        while spent and spent[0][0] <= now - window_s:
            spent.popleft()
        over = sum(c for _, c in spent) + cost - limit
        if over > 0:
            for at, each in spent:
                over -= each
                if over <= 0:
                    return at + window_s - now
        spent.append((now, cost))
        return 0.0

    async def circuit(
        self, key: str, event: Circuit, threshold: int, span_s: float
    ) -> tuple[int, float]:
        now = self._clock()
        state = self._circuits.get(key)
        if state is not None and state.last_failure + CIRCUIT_MEMORY_S <= now:
            state = self._circuits.pop(key)
        if event == "succeeded":
            self._circuits.pop(key, None)
        elif event == "released" and state is not None:
            state.trial_until = 0.0
        elif event == "failed":
            state = self._circuits.setdefault(key, _Circuit())
            self._circuits.move_to_end(key)
            state.failures, state.trial_until, state.last_failure = state.failures + 1, 0.0, now
            if state.failures >= threshold:
                state.open_until = now + span_s
            while len(self._circuits) > self.max_entries:
                self._circuits.popitem(last=False)
        elif event == "ask" and state is not None and state.failures >= threshold:
            wait = state.open_until - now
            if wait > 0 or state.trial_until > now:
                return state.failures, max(wait, 0.0)
            state.trial_until = now + span_s
        return 0, 0.0

    async def drop_matching(self, pattern: str) -> None:
        for key in [k for k in self._entries if fnmatch.fnmatchcase(k, pattern)]:
            del self._entries[key]

    async def close(self) -> None:
        self._entries.clear()


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))
