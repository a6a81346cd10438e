"""The hot cache of session state, in front of PostgreSQL (which stays the truth).

    session:hot:{id}                            "<last_seq>:<session JSON>", sliding TTL
    session:index:{tenant}:agent:{agent id}     open sessions (ACTIVE, IDLE) of an agent
    session:index:{tenant}:customer:{profile}   … of a customer profile
    session:index:{tenant}:channel:{ch}:{user}  … of a channel user

Writes go through after their commit (`keep`), reads go through on a miss. An entry is
served only if it is at least as new as the newest seq this process has heard of through
`NOTIFY personae_session_events` (every append and erasure sends one), so an entry that a
failed write left behind is never served after a newer write; while the process is not
listening, the cache is bypassed. An index set is trusted only once it has been filled from
the database (it then holds the `+` member); writers add to it either way."""

from __future__ import annotations

import json
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from personae.cache import Guarded
from personae.sessions.schemas import SessionOut

OPEN_STATUSES = ("ACTIVE", "IDLE")
ERASED = 2**53
"""The seq of an erased session's entry (higher than any real one)."""
FILLED = "+"
NAMESPACE = "session:*"
INFO_KEY = "personae.hot_sessions"
"""Where a database session's `info` carries the process's `HotSessions`."""

Snapshot = dict[str, Any]
"""A session as the API shows it, JSON-ready."""


def snapshot(state: Any) -> Snapshot:
    """A session (row, `to_jsonb` of it, or snapshot) as the API shows it, with its tenant."""
    shown: Snapshot = SessionOut.model_validate(state).model_dump(mode="json")
    tenant = state["tenant_id"] if isinstance(state, Mapping) else state.tenant_id
    shown["tenant_id"] = str(tenant)
    return shown


def hot_key(session_id: uuid.UUID | str) -> str:
    return f"session:hot:{session_id}"


def index_key(tenant_id: uuid.UUID | str, kind: str, *values: object) -> str:
    return ":".join(["session:index", str(tenant_id), kind, *map(str, values)])


def index_keys(snapshot: Mapping[str, Any]) -> list[str]:
    """The index sets a session belongs to while it is open."""
    tenant = snapshot["tenant_id"]
    keys = [index_key(tenant, "channel", snapshot["channel"], snapshot["user_channel_id"])]
    if snapshot.get("agent_id"):
        keys.append(index_key(tenant, "agent", snapshot["agent_id"]))
    if snapshot.get("customer_profile_id"):
        keys.append(index_key(tenant, "customer", snapshot["customer_profile_id"]))
    return keys


class HotSessions:
    def __init__(self, cache: Guarded, ttl_s: float, *, max_tracked: int = 100_000) -> None:
        self.cache = cache
        self.ttl_s = ttl_s
        self.max_tracked = max_tracked
        self.listening = False
        self._newest: OrderedDict[str, int] = OrderedDict()

    # -- what other processes did -------------------------------------------------------

    def notified(self, payload: str) -> None:
        """`<session id>:<last seq>` (or `:erased`) from `personae_session_events`."""
        session_id, _, seq = payload.partition(":")
        self._heard(session_id, ERASED if seq == "erased" else int(seq) if seq.isdigit() else 0)

    def reset(self, *, listening: bool) -> None:
        """The listener lost or regained its connection: what was missed is unknown."""
        self.listening = listening
        self._newest.clear()

    def _heard(self, session_id: str, seq: int) -> None:
        if seq > self._newest.get(session_id, 0):
            self._newest[session_id] = seq
        self._newest.move_to_end(session_id)
        while len(self._newest) > self.max_tracked:
            self._newest.popitem(last=False)

    # -- reads ----------------------------------------------------------------------------

    async def read(self, session_id: uuid.UUID, tenant_id: uuid.UUID) -> Snapshot | None:
        """The cached session, if it is fresh and the tenant's; None: ask the database."""
        if not self.listening:
            return None
        entry = await self.cache.get(hot_key(session_id), self.ttl_s)
        if entry is None:
            return None
        head, _, data = entry.partition(":")
        if not data or not head.isdigit() or int(head) < self._newest.get(str(session_id), 0):
            return None
        snapshot: Snapshot = json.loads(data)
        return snapshot if snapshot.get("tenant_id") == str(tenant_id) else None

    async def open_sessions(
        self, key: str, fill: Callable[[], Awaitable[Iterable[uuid.UUID]]]
    ) -> list[Snapshot] | None:
        """The open sessions of the index set `key`, or None when the cache can't tell
        (unavailable, or a member's state is not cached): then ask the database.

        `fill` lists the open sessions from the database when the set was never filled."""
        if not self.listening:
            return None
        members = await self.cache.members(key)
        if members is None:
            return None
        if FILLED not in members:
            ids = [str(i) for i in await fill()]
            await self.cache.add(key, [FILLED, *ids], self.ttl_s)
            members = set(ids)
        tenant = key.split(":")[2]
        found = []
        for member in members - {FILLED}:
            snapshot = await self.read(uuid.UUID(member), uuid.UUID(tenant))
            if snapshot is None:
                return None
            if snapshot["status"] in OPEN_STATUSES and key in index_keys(snapshot):
                found.append(snapshot)
        return found

    # -- writes ---------------------------------------------------------------------------

    async def keep(self, snapshot: Snapshot) -> None:
        """Write a session's state through (after its commit, or read from the database)."""
        session_id, seq = str(snapshot["id"]), int(snapshot["last_seq"])
        self._heard(session_id, seq)
        is_open = snapshot["status"] in OPEN_STATUSES
        await self.cache.put_if_newer(
            hot_key(session_id),
            seq,
            json.dumps(snapshot, separators=(",", ":")),
            self.ttl_s,
            member=session_id,
            add_to=index_keys(snapshot) if is_open else (),
            remove_from=() if is_open else index_keys(snapshot),
        )

    async def forget(self, session_ids: Iterable[uuid.UUID], *, batch: int = 1000) -> None:
        """Drop the sessions' entries (their rows changed without an event: a migration
        plan marked them); the next read goes to the database."""
        ids = [hot_key(i) for i in session_ids]
        for start in range(0, len(ids), batch):
            await self.cache.delete(ids[start : start + batch])

    async def erase(self, snapshot: Snapshot) -> None:
        """The session is gone: its entry can never come back, and it leaves its sets."""
        session_id = str(snapshot["id"])
        self._heard(session_id, ERASED)
        await self.cache.put_if_newer(
            hot_key(session_id),
            ERASED,
            "",
            self.ttl_s,
            member=session_id,
            remove_from=index_keys(snapshot),
        )


def hot_sessions(session: AsyncSession) -> HotSessions | None:
    """The hot cache the session factory was given, if any."""
    hot: HotSessions | None = session.info.get(INFO_KEY)
    return hot
