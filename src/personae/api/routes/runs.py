"""Turns and runs: a user's message answered (whole or streamed as Server-Sent Events),
runs started detached, read with their steps, and cancelled."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from personae.api.deps import RequestContext, authorized
from personae.api.resource_routes import list_of, mount
from personae.api.services import Shared
from personae.runtime import mood, runs, schemas
from personae.runtime.turn import Emitted, ending, start_run

router = APIRouter(prefix="/v1", tags=["runs"])


@router.post(
    "/sessions/{session_id}/messages",
    response_model=schemas.TurnOut,
    responses={200: {"content": {"text/event-stream": {}}}},
    summary="Send a message: the persona answers (a turn)",
)
async def send_message(
    session_id: uuid.UUID,
    body: schemas.TurnIn,
    shared: Shared,
    context: Annotated[RequestContext, authorized("sessions:update")],
    accept: Annotated[str | None, Header()] = None,
) -> Response | BaseModel:
    """Append the message and answer it: retrieval, rules, prompt, the model (with its
    fallbacks), tool calls, the answer, each step recorded in the run. With `stream` (or
    `Accept: text/event-stream`) the answer comes as Server-Sent Events as the model
    produces it: `run.started`, `token`, `tool.called`, `tool.result`, then
    `run.completed` / `run.failed` / `run.cancelled`. The turn goes on if the caller leaves."""
    await context.session.rollback()  # the turn writes in transactions of its own
    runtime = shared.runtime
    turn = await start_run(runtime, context.principal, session_id, body.content)
    streaming = body.stream or "text/event-stream" in (accept or "")
    queue = runtime.launch(turn, stream=streaming)
    if streaming:
        return StreamingResponse(
            _sse(queue),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )
    last = await ending(queue)
    done = turn.run  # as it was closed, unless another process closed it
    if done.status in runs.GOING:
        done = await runs.RUNS.get(context.session, context.principal, turn.run_id)
    data = last.data if last else {}
    return schemas.TurnOut(
        run=schemas.RunOut.model_validate(done),
        content=data.get("content"),
        error=data.get("error"),
        steps=data.get("steps", {}),
    )


async def _sse(queue: asyncio.Queue[Emitted | None]) -> AsyncIterator[str]:
    while (emitted := await queue.get()) is not None:
        yield f"event: {emitted.event}\ndata: {json.dumps(emitted.data, default=str)}\n\n"


@router.post("/runs", response_model=schemas.RunOut, status_code=202)
async def start_detached(
    body: schemas.DetachedIn,
    shared: Shared,
    context: Annotated[RequestContext, authorized("sessions:update")],
) -> BaseModel:
    """Send a message to a session and answer it in the background: the run comes back at
    once (`running`); follow it on the session's stream or with GET /v1/runs/{id}."""
    await context.session.rollback()
    runtime = shared.runtime
    turn = await start_run(runtime, context.principal, body.session_id, body.content)
    runtime.launch(turn, stream=False)
    return schemas.RunOut.model_validate(turn.run)


mount(
    router,
    runs.RUNS,
    path="/runs",
    id_param="run_id",
    out=schemas.RunOut,
    filters=schemas.RunFilters,
    deletable=False,
)


@router.get("/runs/{run_id}/steps", response_model=list_of(schemas.RunStepOut))
async def run_steps(
    run_id: uuid.UUID, context: Annotated[RequestContext, authorized("sessions:read")]
) -> list[BaseModel]:
    """The run's steps in order, each with its type, duration, input and output."""
    await runs.RUNS.get(context.session, context.principal, run_id)
    return [
        schemas.RunStepOut.model_validate(s) for s in await runs.steps_of(context.session, run_id)
    ]


@router.post("/runs/{run_id}/cancel", response_model=schemas.RunOut, status_code=202)
async def cancel_run(
    run_id: uuid.UUID,
    shared: Shared,
    context: Annotated[RequestContext, authorized("sessions:update")],
) -> BaseModel:
    """Stop a run, whichever process carries it: its model's stream is closed and it ends
    `cancelled`, with no answer written (409 if it has ended). A run that no process
    stops within `run_cancel_wait_s` is taken for abandoned and cancelled where it
    stands."""
    run = await runs.request_cancel(context.session, context.principal, run_id)
    shown = schemas.RunOut.model_validate(run)
    await context.commit()  # every process hears of it
    runtime = shared.runtime
    if not runtime.cancel(run_id) and not await runs.ended_within(
        runtime.sessions, context.principal, run_id, runtime.settings.run_cancel_wait_s
    ):
        await runs.abandon(runtime.sessions, context.principal, run_id)
    return shown


@router.get("/personas/{persona_id}/mood", response_model=schemas.LevelsOut, tags=["personas"])
async def persona_mood(
    persona_id: uuid.UUID, context: Annotated[RequestContext, authorized()]
) -> schemas.LevelsOut:
    """The persona's neuromodulator levels and the generation parameters they set now."""
    return schemas.LevelsOut(**await mood.current(context.session, context.principal, persona_id))


@router.post("/personas/{persona_id}/mood", response_model=schemas.LevelsOut, tags=["personas"])
async def nudge_persona(
    persona_id: uuid.UUID,
    body: schemas.Nudge,
    context: Annotated[RequestContext, authorized()],
) -> schemas.LevelsOut:
    """Nudge the levels by an event (positive_feedback, negative_feedback, error, urgent,
    novelty, calm) or by explicit deltas; each stays within [0, 1] and decays back toward
    the persona's baseline, turn by turn."""
    done = await mood.nudge(context.session, context.principal, persona_id, body.event, body.deltas)
    await context.commit()
    return schemas.LevelsOut(**done)
