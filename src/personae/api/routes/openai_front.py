"""The OpenAI-compatible front door: `POST /openai/v1/chat/completions`, where `model` names
a persona or an agent, so OpenAI clients and SDKs talk to a persona with its memory,
knowledge and tools; `GET /openai/v1/models` lists what a token may name. Authentication is
by API token (`Authorization: Bearer pat_…`) with the scopes `FRONT_DOOR_NEEDS` (403 naming
those it lacks, before anything is written)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Response
from fastapi.responses import JSONResponse, StreamingResponse

from personae.api.deps import RequestContext, authorized
from personae.api.services import Shared
from personae.errors import ProviderUnavailable
from personae.runtime.front_door import (
    FRONT_DOOR_NEEDS,
    ChatCompletionIn,
    callable_models,
    conversation,
    last_user_message,
    speaker,
)
from personae.runtime.turn import Emitted, Runtime, ending, require_turn, start_run

router = APIRouter(prefix="/openai/v1", tags=["openai"])


@router.post(
    "/chat/completions",
    responses={200: {"content": {"text/event-stream": {}}}},
    summary="Chat with a persona as with an OpenAI model",
)
async def chat_completions(
    shared: Shared,
    body: ChatCompletionIn,
    context: Annotated[RequestContext, authorized("sessions:update")],
    x_personae_session: Annotated[uuid.UUID | None, Header()] = None,
) -> Response:
    """An OpenAI `chat.completion` (or, with `stream`, `chat.completion.chunk`s then
    `[DONE]`) answered by the persona or agent `model` names, through a full turn."""
    require_turn(context.principal, *FRONT_DOOR_NEEDS)
    who = await speaker(context.session, body.model)
    session_id = await conversation(
        context.session, context.principal, who, body, x_personae_session
    )
    await context.commit()
    _index, text = last_user_message(body.messages)
    runtime: Runtime = shared.runtime
    turn = await start_run(runtime, context.principal, session_id, text)
    queue = runtime.launch(turn, stream=body.stream)
    ident, created = f"chatcmpl-{turn.run_id}", int(time.time())
    headers = {"X-Personae-Session": str(session_id), "X-Personae-Run": str(turn.run_id)}
    if body.stream:
        usage = body.stream_options is not None and body.stream_options.include_usage
        return StreamingResponse(
            _chunks(queue, ident, created, body.model, usage),
            media_type="text/event-stream",
            headers={**headers, "Cache-Control": "no-store"},
        )
    last = await ending(queue)
    if last is None or last.event != "run.completed":
        reason = last.data.get("error", "the run was cancelled") if last else "no answer"
        raise ProviderUnavailable(f"the persona could not answer: {reason}")
    return JSONResponse(
        {
            "id": ident,
            "object": "chat.completion",
            "created": created,
            "model": body.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": last.data["content"]},
                    "finish_reason": "stop",
                }
            ],
            "usage": _usage(last.data.get("usage", {})),
        },
        headers=headers,
    )


@router.get("/models", summary="The personas and agents a token may name as `model`")
async def models(context: Annotated[RequestContext, authorized()]) -> dict[str, Any]:
    """OpenAI's model list: each persona (and agent) the caller may read, by name."""
    named = await callable_models(context.session, context.principal)
    return {
        "object": "list",
        "data": [
            {"id": name, "object": "model", "created": int(made.timestamp()), "owned_by": owner}
            for name, made, owner in named
        ],
    }


def _usage(total: dict[str, Any]) -> dict[str, int]:
    prompt, completion = int(total.get("input_tokens", 0)), int(total.get("output_tokens", 0))
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


async def _chunks(
    queue: asyncio.Queue[Emitted | None], ident: str, created: int, model: str, usage: bool
) -> AsyncIterator[str]:
    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        choices = [{"index": 0, "delta": delta, "finish_reason": finish}] if delta or finish else []
        body = {
            "id": ident,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": choices,
            **extra,
        }
        return f"data: {json.dumps(body)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    while (emitted := await queue.get()) is not None:
        if emitted.event == "token":
            yield chunk({"content": emitted.data["text"]})
        elif emitted.event == "run.completed":
            yield chunk({}, "stop")
            if usage:
                yield chunk({}, usage=_usage(emitted.data.get("usage", {})))
        elif emitted.event in ("run.failed", "run.cancelled"):
            error = {
                "message": emitted.data.get("error", "the run was cancelled"),
                "type": "server_error",
            }
            yield f"data: {json.dumps({'error': error})}\n\n"
    yield "data: [DONE]\n\n"
