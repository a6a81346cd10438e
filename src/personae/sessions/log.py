"""A session's event log: appending (the one write path), reading, and rebuilding views.

Every change to a conversation is an event. Appending validates each event by its type,
derives what the views hold (`derive.py`), and hands it all to `personae_append_events`
(`db/sql/append_events.sql`): one round trip that keeps `seq` gap-free, honours `expected_seq` and
idempotency keys, writes the views and the audit event, and wakes the live streams."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Delete, Insert, Select, Update, delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from personae.db.after_commit import after_commit
from personae.db.calls import SqlFunction, fetch_value, with_writes
from personae.db.errors import DATABASE_ERRORS, server_error, sqlstate
from personae.db.shapes import attribute_name
from personae.db.tenancy import tenant_session
from personae.errors import Conflict, NotFound, ValidationFailed
from personae.identity.models import Tenant
from personae.kernel.audit.service import audit_values
from personae.kernel.principal import Principal
from personae.sessions import derive, event_types
from personae.sessions.hot import hot_sessions, snapshot
from personae.sessions.models import Message, Session, SessionEvent, TurnRecord

APPEND = SqlFunction(
    "personae_append_events",
    ("tenant", "session", "expected", "key", "events:jsonb", "patch:jsonb", "audit:jsonb"),
)
APPEND_BESIDE_WRITES = APPEND.column("log_")
WRITE_VIEWS = text("SELECT personae_write_views(:tenant, :session, CAST(:rows AS jsonb))")
APPLY_ENVELOPE = text(
    "SELECT personae_apply_envelope(:session, CAST(:patch AS jsonb), :last_seq, "
    "coalesce(CAST(:activity AS timestamptz), now()))"
)
IDEMPOTENCY_KEY_MAX = 200


@dataclass(frozen=True)
class Alongside:
    """A write sent in an append's own statement (see `append`): an INSERT / UPDATE /
    DELETE with RETURNING, its values given as `bindparam`s named in `params`. Build the
    statement once (a module constant): then the whole is compiled and prepared once."""

    statement: Insert | Update | Delete
    params: Mapping[str, Any]


@dataclass(frozen=True)
class NewEvent:
    """An event to append, as a client sends it."""

    event_type: str
    payload: dict[str, Any]
    schema_version: int = 1
    trace_id: str | None = None


@dataclass(frozen=True)
class Appended:
    events: list[dict[str, Any]]
    """As stored: id, seq, event_type, schema_version, payload, trace_id, created_at."""
    session: dict[str, Any] | None
    """The envelope after the append (None for a replay)."""
    replayed: bool
    alongside: tuple[int, ...] = ()
    """How many rows each statement written alongside returned."""


def prepare(events: Sequence[NewEvent], *, system: bool = False) -> tuple[list[Any], Any]:
    """Validated events with their derived rows, and the envelope patch of the batch."""
    prepared = []
    patch = derive.EnvelopePatch()
    for index, event in enumerate(events):
        field = f"events.{index}"
        if event.event_type in event_types.SYSTEM_ONLY and not system:
            raise ValidationFailed(
                f"{event.event_type} is written by Personae only", field=f"{field}.event_type"
            )
        shape = event_types.parse(
            event.event_type, event.schema_version, event.payload, field=field
        )
        payload = shape.model_dump(mode="json", exclude_defaults=True)
        prepared.append(
            {
                "event_type": event.event_type,
                "schema_version": event.schema_version,
                "payload": payload,
                "trace_id": event.trace_id,
                "message": derive.message(event.event_type, payload),
                "turn": derive.turn(event.event_type, payload),
            }
        )
        patch = patch.then(derive.envelope(event.event_type, payload))
    return prepared, patch


async def append(
    session: AsyncSession,
    principal: Principal,
    session_id: uuid.UUID,
    events: Sequence[NewEvent],
    *,
    expected_seq: int | None = None,
    idempotency_key: str | None = None,
    system: bool = False,
    audit: dict[str, Any] | None = None,
    alongside: Sequence[Alongside] = (),
) -> Appended:
    """Append `events` atomically in `session`'s transaction; 409 if `expected_seq` is not
    the session's last seq; a retry with the same `idempotency_key` returns the first
    result (a different body: 422).

    `system`: Personae itself writes (reserved types allowed, the caller checks permissions
    and audits: with `audit`, the values of an audit event written with the events).
    `alongside`: writes sent in the same statement, as common table expressions: one round
    trip for them all. They see the database as the append does, not each other's writes;
    `Appended.alongside` counts the rows each returned."""
    call = _call(principal, session_id, events, expected_seq, idempotency_key, system, audit)
    if alongside:
        outcome = await _with_alongside(session, call, alongside)
    else:
        outcome = await _run(lambda: _scalar(session, call), call)
    hot = hot_sessions(session)
    if hot is not None and outcome.session is not None:
        state = snapshot(outcome.session)
        after_commit(session, lambda: hot.keep(state))
    return outcome


async def append_committed(
    session: AsyncSession,
    principal: Principal,
    session_id: uuid.UUID,
    events: Sequence[NewEvent],
    *,
    expected_seq: int | None = None,
    idempotency_key: str | None = None,
) -> Appended:
    """`append` in a transaction of its own, committed when this returns: one statement,
    one round trip, for callers with nothing else to write (the events route)."""
    call = _call(principal, session_id, events, expected_seq, idempotency_key, False)
    engine = session.bind
    assert isinstance(engine, AsyncEngine), "a session bound to one engine"
    values = APPEND.values(call.params)
    outcome = await _run(lambda: fetch_value(engine, APPEND.direct, *values), call)
    hot = hot_sessions(session)
    if hot is not None and outcome.session is not None:
        await hot.keep(snapshot(outcome.session))
    return outcome


@dataclass(frozen=True)
class _Call:
    params: dict[str, Any]
    prepared: list[dict[str, Any]]


def _call(
    principal: Principal,
    session_id: uuid.UUID,
    events: Sequence[NewEvent],
    expected_seq: int | None,
    idempotency_key: str | None,
    system: bool,
    audit: dict[str, Any] | None = None,
) -> _Call:
    if not system:
        principal.require("sessions:update")
    if not events:
        raise ValidationFailed("send at least one event", field="events")
    if idempotency_key is not None and not 0 < len(idempotency_key) <= IDEMPOTENCY_KEY_MAX:
        raise ValidationFailed(f"at most {IDEMPOTENCY_KEY_MAX} characters", field="Idempotency-Key")
    prepared, patch = prepare(events, system=system)
    if not system:
        count = {"count": len(events)}
        audit = audit_values(principal, "append", "session", session_id, data=count)
    params = {
        "tenant": principal.tenant_id,
        "session": session_id,
        "expected": expected_seq,
        "key": idempotency_key,
        "events": json.dumps(prepared),
        "patch": json.dumps(patch.as_json()),
        "audit": None if audit is None else json.dumps(audit, default=str),
    }
    return _Call(params, prepared)


async def _run(execute: Callable[[], Awaitable[Any]], call: _Call) -> Appended:
    return _appended(await _executed(execute), call)


async def _executed(execute: Callable[[], Awaitable[Any]]) -> Any:
    """What `execute` returns; the database's refusal of an append as our error."""
    try:
        return await execute()
    except DATABASE_ERRORS as error:
        raise _append_error(error) from None


def _appended(result: Any, call: _Call) -> Appended:
    outcome: dict[str, Any] = json.loads(result) if isinstance(result, str) else result
    if outcome["replayed"]:
        _same_batch(outcome["events"], call.prepared)
    return Appended(outcome["events"], outcome.get("session"), outcome["replayed"])


async def _scalar(session: AsyncSession, call: _Call) -> Any:
    return (await session.execute(APPEND.statement, call.params)).scalar_one()


async def _with_alongside(
    session: AsyncSession, call: _Call, alongside: Sequence[Alongside]
) -> Appended:
    statement = with_writes(APPEND_BESIDE_WRITES, tuple(a.statement for a in alongside))
    params = {f"log_{name}": value for name, value in call.params.items()}
    for written in alongside:
        params.update(written.params)
    row = await _executed(lambda: _one(session, statement, params))
    return replace(_appended(row[0], call), alongside=tuple(int(n) for n in row[1:]))


async def _one(session: AsyncSession, statement: Select[Any], params: dict[str, Any]) -> Any:
    return (await session.execute(statement, params)).one()


def _append_error(error: Exception) -> Exception:
    state = sqlstate(error)
    if state == "P0002":
        return NotFound("no such session")
    if state == "PC409":
        current = getattr(server_error(error), "detail", None)
        return Conflict(
            f"the session moved on: its last seq is {current}; read the new events and retry",
            last_seq=int(current) if current is not None else None,
        )
    return error


def _same_batch(stored: list[dict[str, Any]], sent: list[dict[str, Any]]) -> None:
    def as_sent(event: dict[str, Any], sent_event: dict[str, Any]) -> dict[str, Any]:
        payload: dict[str, Any] = event["payload"]
        if "turn_number" in payload and "turn_number" not in sent_event["payload"]:
            return {k: v for k, v in payload.items() if k != "turn_number"}  # the log's
        return payload

    def shape(event: dict[str, Any], payload: dict[str, Any]) -> tuple[Any, ...]:
        return (event["event_type"], event["schema_version"], payload)

    if len(stored) != len(sent) or any(
        shape(s, as_sent(s, e)) != shape(e, e["payload"]) for s, e in zip(stored, sent, strict=True)
    ):
        raise ValidationFailed(
            "this Idempotency-Key was used with a different body", field="Idempotency-Key"
        )


async def events_after(
    session: AsyncSession, session_id: uuid.UUID, after: int, limit: int
) -> list[SessionEvent]:
    """Up to `limit` events with seq above `after`, in order (no checks: callers check)."""
    rows = await session.execute(
        select(SessionEvent)
        .where(SessionEvent.session_id == session_id, SessionEvent.seq > after)
        .order_by(SessionEvent.seq)
        .limit(limit)
    )
    return list(rows.scalars())


async def rebuild(session: AsyncSession, session_id: uuid.UUID) -> int:
    """Recompute the messages, turn records and envelope of one session from its log
    (in the bound tenant's transaction); returns the number of events replayed."""
    locked = await session.execute(
        select(Session.id).where(Session.id == session_id).with_for_update()
    )
    if locked.first() is None:
        raise NotFound("no such session")
    events = list(
        (
            await session.execute(
                select(SessionEvent)
                .where(SessionEvent.session_id == session_id)
                .order_by(SessionEvent.seq)
            )
        ).scalars()
    )
    await session.execute(delete(Message).where(Message.session_id == session_id))
    await session.execute(delete(TurnRecord).where(TurnRecord.session_id == session_id))
    await session.execute(
        update(Session)
        .where(Session.id == session_id)
        .values({attribute_name(Session, k): v for k, v in derive.INITIAL_ENVELOPE.items()})
    )
    rows = []
    patch = derive.EnvelopePatch()
    for event in events:
        rows.append(
            {
                "event_id": event.id,
                "seq": event.seq,
                "message": derive.message(event.event_type, event.payload),
                "turn": derive.turn(event.event_type, event.payload),
            }
        )
        patch = patch.then(derive.envelope(event.event_type, event.payload))
    tenant = events[0].tenant_id if events else None
    if tenant is not None:
        await session.execute(
            WRITE_VIEWS, {"tenant": tenant, "session": session_id, "rows": json.dumps(rows)}
        )
    last: datetime | None = events[-1].created_at if events else None
    await session.execute(
        APPLY_ENVELOPE,
        {
            "session": session_id,
            "patch": json.dumps(patch.as_json()),
            "last_seq": events[-1].seq if events else 0,
            "activity": last,
        },
    )
    return len(events)


async def rebuild_all(
    sessions: async_sessionmaker[AsyncSession], session_id: uuid.UUID | None = None
) -> int:
    """Rebuild one session (any tenant) or every session, each in its own transaction;
    returns how many were rebuilt."""
    async with sessions() as lookup:
        tenants = (await lookup.execute(select(Tenant.id))).scalars().all()
    rebuilt = 0
    for tenant_id in tenants:
        async with tenant_session(sessions, tenant_id) as session:
            query = select(Session.id).where(Session.deleted_at.is_(None))
            if session_id is not None:
                query = query.where(Session.id == session_id)
            ids = (await session.execute(query)).scalars().all()
        for target in ids:
            async with tenant_session(sessions, tenant_id) as session:
                await rebuild(session, target)
            rebuilt += 1
    return rebuilt
