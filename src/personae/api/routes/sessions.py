"""Sessions, their event logs, derived messages and turns, and live streams (SSE)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from personae.api.deps import RequestContext, authorized
from personae.api.resource_routes import list_of, mount
from personae.api.services import Shared
from personae.behavior import scenarios
from personae.db.tenancy import tenant_session
from personae.errors import PayloadTooLarge, ValidationFailed
from personae.sessions import export, log
from personae.sessions.feed import Feed
from personae.sessions.models import Message, TurnRecord
from personae.sessions.schemas import (
    AppendRequest,
    AppendResult,
    ChannelSession,
    EventOut,
    EventPage,
    MessageOut,
    SessionCreate,
    SessionFilters,
    SessionOut,
    SessionUpdate,
    TurnOut,
)
from personae.sessions.service import SESSIONS, find_or_create
from personae.settings import Settings

router = APIRouter(prefix="/v1", tags=["sessions"])
STREAM_BATCH = 500
Reader = Annotated[RequestContext, authorized("sessions:read")]


@router.post(
    "/sessions/by-channel",
    response_model=SessionOut,
    summary="The open session of a channel user, created if there is none",
    responses={201: {"description": "Created"}},
)
async def by_channel(
    body: ChannelSession,
    response: Response,
    context: Annotated[RequestContext, authorized("sessions:create")],
) -> BaseModel:
    values = body.model_dump(exclude_unset=True)
    state, created = await find_or_create(context.session, context.principal, values)
    shown = SessionOut.model_validate(state)
    await context.commit()
    response.status_code = 201 if created else 200
    return shown


mount(
    router,
    SESSIONS,
    path="/sessions",
    id_param="session_id",
    out=SessionOut,
    create=SessionCreate,
    update=SessionUpdate,
    filters=SessionFilters,
)


def _check_sizes(body: AppendRequest, settings: Settings) -> None:
    if len(body.events) > settings.max_events_per_append:
        raise PayloadTooLarge(
            f"at most {settings.max_events_per_append} events per append", field="events"
        )
    for index, event in enumerate(body.events):
        size = len(json.dumps(event.payload, separators=(",", ":")).encode())
        if size > settings.max_event_bytes:
            raise PayloadTooLarge(
                f"an event's payload is at most {settings.max_event_bytes} bytes",
                field=f"events.{index}.payload",
            )


@router.post("/sessions/{session_id}/events", status_code=201, summary="Append events")
async def append_events(
    shared: Shared,
    session_id: uuid.UUID,
    body: AppendRequest,
    response: Response,
    context: Annotated[RequestContext, authorized("sessions:update")],
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> AppendResult:
    """Append one or many events atomically. `expected_seq` makes it conditional (409 when
    the session moved on); an `Idempotency-Key` makes a retry return the first result."""
    _check_sizes(body, shared.settings)
    moves = [(e.event_type, e.payload) for e in body.events]
    if any(kind in scenarios.MOVES for kind, _ in moves):
        where = await SESSIONS.get(context.session, context.principal, session_id)
        await scenarios.check_moves(
            context.session,
            where.agent_id,
            where.active_scenario_id,
            where.active_scenario_version,
            moves,
        )
    appended = await log.append_committed(
        context.session,
        context.principal,
        session_id,
        [log.NewEvent(e.event_type, e.payload, e.schema_version, e.trace_id) for e in body.events],
        expected_seq=body.expected_seq,
        idempotency_key=idempotency_key,
    )
    if appended.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    events = [EventOut.model_validate(e) for e in appended.events]
    return AppendResult(events=events, last_seq=events[-1].seq)


@router.get("/sessions/{session_id}/events", summary="The log, in order, from a seq on")
async def list_events(
    session_id: uuid.UUID,
    context: Reader,
    after: Annotated[int, Query(ge=0, le=9_223_372_036_854_775_807)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EventPage:
    await SESSIONS.get(context.session, context.principal, session_id)
    rows = await log.events_after(context.session, session_id, after, limit)
    items = [EventOut.model_validate(row) for row in rows]
    return EventPage(items=items, next_after=items[-1].seq if len(items) == limit else None)


@router.get(
    "/sessions/{session_id}/messages",
    response_model=list_of(MessageOut),
    summary="The messages derived from the log, in order",
)
async def list_messages(
    session_id: uuid.UUID,
    context: Reader,
    after: Annotated[int, Query(ge=0, le=9_223_372_036_854_775_807)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[BaseModel]:
    await SESSIONS.get(context.session, context.principal, session_id)
    rows = await context.session.execute(
        select(Message)
        .where(Message.session_id == session_id, Message.seq > after)
        .order_by(Message.seq)
        .limit(limit)
    )
    return [MessageOut.model_validate(row) for row in rows.scalars()]


@router.get(
    "/sessions/{session_id}/turns",
    response_model=list_of(TurnOut),
    summary="Records of the completed turns",
)
async def list_turns(session_id: uuid.UUID, context: Reader) -> list[BaseModel]:
    await SESSIONS.get(context.session, context.principal, session_id)
    rows = await context.session.execute(
        select(TurnRecord)
        .where(TurnRecord.session_id == session_id)
        .order_by(TurnRecord.turn_number)
    )
    return [TurnOut.model_validate(row) for row in rows.scalars()]


@router.get(
    "/sessions/{session_id}/export",
    summary="The session, its events and its attachments' metadata, as JSON Lines",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/jsonl": {}}}},
)
async def export_session(
    shared: Shared, session_id: uuid.UUID, context: Reader
) -> StreamingResponse:
    """`{"type": "session" | "event" | "attachment", "data": {…}}` per line: the session,
    every event in order, then each attachment's metadata (fetch bytes one by one)."""
    await export.begin(context.session, context.principal, session_id)
    await context.commit()
    return StreamingResponse(
        export.lines(shared.sessions, context.principal.tenant_id, session_id),
        media_type="application/jsonl",
        headers={
            "Content-Disposition": f'attachment; filename="session-{session_id}.jsonl"',
            "Cache-Control": "no-store",
        },
    )


@router.get(
    "/sessions/{session_id}/stream",
    summary="Live events (Server-Sent Events), resumable",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream(
    shared: Shared,
    session_id: uuid.UUID,
    context: Reader,
    after: Annotated[int | None, Query(ge=0, le=9_223_372_036_854_775_807)] = None,
    last_event_id: Annotated[str | None, Header(max_length=20)] = None,
) -> StreamingResponse:
    """Each event once, in order, with `id: <seq>`; reconnect with `Last-Event-ID` (or
    `?after=`) to resume exactly after the last one received. Comments keep it alive.

    A streaming run's reply also passes by as `token` events (`run_id`, `text`) while the
    model produces it: they have no id and are not kept (the `message.assistant` event
    that follows holds the whole reply)."""
    await SESSIONS.get(context.session, context.principal, session_id)
    await context.session.rollback()  # the stream reads in short transactions of its own
    start = after or 0
    if last_event_id is not None:
        if not last_event_id.isdigit():
            raise ValidationFailed("the seq of the last event received", field="Last-Event-ID")
        start = int(last_event_id)
    return StreamingResponse(
        _events(shared.sessions, shared.feed, shared.settings, context, session_id, start),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _events(
    sessions: async_sessionmaker[AsyncSession],
    feed: Feed,
    settings: Settings,
    context: RequestContext,
    session_id: uuid.UUID,
    position: int,
) -> AsyncIterator[str]:
    tenant = context.principal.tenant_id
    with feed.subscribe(session_id) as watch:
        yield ": connected\n\n"
        while not feed.closing:
            watch.wake.clear()  # before reading: a write after this read sets it again
            for event, passed in watch.take():  # passing events (tokens): no id, not kept
                yield f"event: {event}\ndata: {json.dumps(passed)}\n\n"
            async with tenant_session(sessions, tenant) as session:
                rows = await log.events_after(session, session_id, position, STREAM_BATCH)
            for row in rows:
                data = EventOut.model_validate(row).model_dump_json()
                yield f"id: {row.seq}\nevent: {row.event_type}\ndata: {data}\n\n"
                position = row.seq
            if len(rows) == STREAM_BATCH:
                continue
            try:
                await asyncio.wait_for(watch.wake.wait(), settings.sse_heartbeat_s)
            except TimeoutError:
                yield ": heartbeat\n\n"
        yield ": the server is stopping; reconnect with Last-Event-ID\n\n"
