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
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Header, Response
from fastapi.responses import JSONResponse, StreamingResponse

from personae.api.deps import RequestContext, authorized
from personae.api.services import Shared
from personae.errors import NotFound, ProviderUnavailable, ValidationFailed
from personae.runtime.chat_completions import ChatCompletionIn, asked
from personae.runtime.front_door import (
    FRONT_DOOR_NEEDS,
    callable_models,
    conversation,
    end_user,
    last_user_message,
    speaker,
    tool_results,
)
from personae.runtime.resumption import resume_run, waiting_in
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
    x_personae_user: Annotated[str | None, Header(max_length=255)] = None,
) -> Response:
    """An OpenAI `chat.completion` (or, with `stream`, `chat.completion.chunk`s then
    `[DONE]`) answered by the persona or agent `model` names, through a full turn; the
    calls of the client's functions returned as `tool_calls`, and its results taken up by
    the run that called them."""
    principal = context.principal
    require_turn(principal, *FRONT_DOOR_NEEDS)
    who = await speaker(context.session, body.model)
    wanted = asked(
        body,
        client_sampling=who.persona.client_sampling == "client",
        client_instructions=who.persona.client_instructions == "append",
    )
    runtime: Runtime = shared.runtime
    results = tool_results(body.messages)
    person = end_user(body.user, x_personae_user)
    if results:
        run_id = None
        if not all(r.tool_call_id for r in results):  # legacy: found by the conversation
            if x_personae_session is None and person is None:
                raise ValidationFailed(
                    "function results find their run by the conversation: send `user` or "
                    "X-Personae-Session (or use tools, whose call ids name it)",
                    field="messages",
                )
            session_id = await conversation(
                context.session, principal, who, body, x_personae_session, person
            )
            run_id = await waiting_in(context.session, session_id)
            if run_id is None:
                raise NotFound("no run of this conversation waits for function results")
        await context.commit()
        turn = await resume_run(runtime, principal, who.persona.id, results, wanted, run_id)
    else:
        session_id = await conversation(
            context.session, principal, who, body, x_personae_session, person
        )
        await context.commit()
        _index, text = last_user_message(body.messages)
        turn = await start_run(runtime, principal, session_id, text, wanted)
    queue = runtime.launch(turn, stream=body.stream)
    answer = Answer(f"chatcmpl-{turn.run_id}", int(time.time()), body.model, wanted.legacy)
    headers = {"X-Personae-Session": str(turn.session_id), "X-Personae-Run": str(turn.run_id)}
    if wanted.ignored:
        headers["X-Personae-Ignored"] = ", ".join(wanted.ignored)
    if body.stream:
        usage = body.stream_options is not None and body.stream_options.include_usage
        return StreamingResponse(
            answer.chunks(queue, usage),
            media_type="text/event-stream",
            headers={**headers, "Cache-Control": "no-store"},
        )
    last = await ending(queue)
    if last is None or last.event not in ("run.completed", "run.requires_action"):
        reason = last.data.get("error", "the run was cancelled") if last else "no answer"
        raise ProviderUnavailable(f"the persona could not answer: {reason}")
    return JSONResponse(answer.whole(last), headers=headers)


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


@router.get("/models/{model:path}", summary="One persona or agent a token may name")
async def model(model: str, context: Annotated[RequestContext, authorized()]) -> dict[str, Any]:
    """OpenAI's model object for the persona or agent of that name (404 if the caller may
    name none)."""
    for name, made, owner in await callable_models(context.session, context.principal):
        if name == model:
            return {
                "id": name,
                "object": "model",
                "created": int(made.timestamp()),
                "owned_by": owner,
            }
    raise NotFound(f"no persona or agent is called {model!r}")


def _usage(total: dict[str, Any]) -> dict[str, int]:
    prompt, completion = int(total.get("input_tokens", 0)), int(total.get("output_tokens", 0))
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _wired(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The client's calls as OpenAI writes them."""
    return [
        {
            "id": c["id"],
            "type": "function",
            "function": {"name": c["name"], "arguments": c["arguments"]},
        }
        for c in calls
    ]


@dataclass(frozen=True)
class Answer:
    """An answer's identity, and how it is written whole or in chunks."""

    ident: str
    created: int
    model: str
    legacy: bool = False
    """The client gave `functions`: its call is a `function_call`."""

    def whole(self, last: Emitted) -> dict[str, Any]:
        """The `chat.completion` of a run that ended (or waits for the client's calls)."""
        content = last.data.get("content") or ""
        message: dict[str, Any] = {"role": "assistant", "content": content}
        finish = "stop"
        if last.event == "run.requires_action":
            message["content"] = content or None
            calls = _wired(last.data["tool_calls"])
            if self.legacy:
                message["function_call"] = calls[0]["function"]
                finish = "function_call"
            else:
                message["tool_calls"] = calls
                finish = "tool_calls"
        return {
            "id": self.ident,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": _usage(last.data.get("usage", {})),
        }

    def chunk(self, delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        choices = [{"index": 0, "delta": delta, "finish_reason": finish}] if delta or finish else []
        body = {
            "id": self.ident,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": choices,
            **extra,
        }
        return f"data: {json.dumps(body)}\n\n"

    async def chunks(self, queue: asyncio.Queue[Emitted | None], usage: bool) -> AsyncIterator[str]:
        """`chat.completion.chunk`s as the run goes, then `[DONE]`."""
        yield self.chunk({"role": "assistant", "content": ""})
        while (emitted := await queue.get()) is not None:
            if emitted.event == "token":
                yield self.chunk({"content": emitted.data["text"]})
            elif emitted.event in ("run.completed", "run.requires_action"):
                finish = "stop"
                if emitted.event == "run.requires_action":
                    calls = _wired(emitted.data["tool_calls"])
                    if self.legacy:
                        yield self.chunk({"function_call": calls[0]["function"]})
                        finish = "function_call"
                    else:
                        for index, call in enumerate(calls):
                            yield self.chunk({"tool_calls": [{"index": index, **call}]})
                        finish = "tool_calls"
                yield self.chunk({}, finish)
                if usage:
                    yield self.chunk({}, usage=_usage(emitted.data.get("usage", {})))
            elif emitted.event in ("run.failed", "run.cancelled"):
                error = {
                    "message": emitted.data.get("error", "the run was cancelled"),
                    "type": "server_error",
                }
                yield f"data: {json.dumps({'error': error})}\n\n"
        yield "data: [DONE]\n\n"
