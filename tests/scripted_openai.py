"""A scripted OpenAI-compatible server on 127.0.0.1, for tests of provider adapters (it
speaks Anthropic's Messages API too, at `/v1/messages`, from the same script).

`/v1/embeddings` answers with the hashing embedder's vectors (so results are meaningful)
unless the script says to fail: `script.failures` are the next answers' status codes
(None: a normal answer), then normal answers; `script.down` fails everything.
`/v1/chat/completions` answers with `script.replies` in turn (then the last one again),
failing first as `script.chat_failures` say. A reply is text, or a dict asking for tool
calls (`{"tool_calls": [{"name": …, "arguments": {…}}]}`). Asked to stream, it sends the
reply word by word as Server-Sent Events (`stream_delay_s` apart; the connection drops
after `stream_break_after` words when set), then the usage. Every request is recorded."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from personae.providers.embeddings import HashingEmbedder
from tests.serving import on_loopback


@dataclass
class Script:
    failures: list[int | None] = field(default_factory=list)
    dimensions: int = 384
    requests: list[dict[str, Any]] = field(default_factory=list)
    down: bool = False
    """Fail every request with 503 while set."""
    replies: list[str | dict[str, Any]] = field(default_factory=lambda: ["A scripted reply."])
    chat_failures: list[int | None] = field(default_factory=list)
    chat_requests: list[dict[str, Any]] = field(default_factory=list)
    chat_delay_s: float = 0.0
    """How long every chat answer waits before it starts."""
    stream_delay_s: float = 0.0
    stream_break_after: int | None = None
    streams_closed: int = 0
    """Streams that ended because the client went away."""
    chat_arrivals: list[float] = field(default_factory=list)
    """When each chat request came (the event loop's clock)."""
    delay_s: float = 0.0
    """How long every embeddings answer takes."""
    chat_keys: list[str | None] = field(default_factory=list)
    """The API key each chat request came with (its bearer token)."""
    shapeless: list[Any] = field(default_factory=list)
    """Bodies the next chat answers are, as they are (a stream's one chunk), then the
    replies."""


def _failure(script: Script, failures: list[int | None]) -> Response | None:
    if script.down:
        return JSONResponse({"error": {"message": "down for maintenance"}}, status_code=503)
    failure = failures.pop(0) if failures else None
    if failure is not None:
        return JSONResponse({"error": {"message": "scripted failure"}}, status_code=failure)
    return None


def _app(script: Script) -> Starlette:
    async def embeddings(request: Request) -> Response:
        body = await request.json()
        script.requests.append(body)
        await asyncio.sleep(script.delay_s)
        if (failed := _failure(script, script.failures)) is not None:
            return failed
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        embedder = HashingEmbedder(script.dimensions)
        vectors = await embedder.embed(texts)
        return JSONResponse(
            {
                "object": "list",
                "model": body["model"],
                "data": [
                    {"object": "embedding", "index": i, "embedding": v}
                    for i, v in enumerate(vectors)
                ],
                "usage": {"prompt_tokens": 1, "total_tokens": 1},
            }
        )

    async def chat(request: Request) -> Response:
        body = await request.json()
        script.chat_keys.append(request.headers.get("authorization", "").removeprefix("Bearer "))
        if (failed := await _arrived(script, body)) is not None:
            return failed
        if script.shapeless:
            shapeless = script.shapeless.pop(0)
            if not body.get("stream"):
                return JSONResponse(shapeless)
            sent = f"data: {json.dumps(shapeless)}\n\ndata: [DONE]\n\n"
            return Response(sent, media_type="text/event-stream")
        text, calls = _reply(script)
        usage = {
            "prompt_tokens": sum(
                len(str(m.get("content") or "").split()) for m in body["messages"]
            ),
            "completion_tokens": len(text.split()),
            "total_tokens": 0,
        }
        wired = [
            {
                "id": f"call_{len(script.chat_requests)}_{i}",
                "type": "function",
                "function": {"name": c["name"], "arguments": json.dumps(c.get("arguments", {}))},
            }
            for i, c in enumerate(calls)
        ]
        if body.get("stream"):
            return StreamingResponse(
                _streamed(script, body["model"], text, wired, usage), media_type="text/event-stream"
            )
        message: dict[str, Any] = {"role": "assistant", "content": text or None}
        if wired:
            message["tool_calls"] = wired
        return JSONResponse(
            {
                "id": f"chatcmpl-{len(script.chat_requests)}",
                "object": "chat.completion",
                "created": 0,
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": message,
                        "finish_reason": "tool_calls" if wired else "stop",
                    }
                ],
                "usage": usage,
            }
        )

    async def messages(request: Request) -> Response:
        """Anthropic's Messages API."""
        body = await request.json()
        if (failed := await _arrived(script, body)) is not None:
            return failed
        text, calls = _reply(script)
        words = sum(
            len(str(m["content"]).split()) if isinstance(m["content"], str) else 1
            for m in body["messages"]
        )
        usage = {"input_tokens": words, "output_tokens": len(text.split())}
        blocks: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
        blocks += [
            {
                "type": "tool_use",
                "id": f"toolu_{len(script.chat_requests)}_{i}",
                "name": c["name"],
                "input": c.get("arguments", {}),
            }
            for i, c in enumerate(calls)
        ]
        stop = "tool_use" if calls else "end_turn"
        if body.get("stream"):
            return StreamingResponse(
                _streamed_messages(script, body["model"], blocks, stop, usage),
                media_type="text/event-stream",
            )
        return JSONResponse(
            {
                "id": f"msg_{len(script.chat_requests)}",
                "type": "message",
                "role": "assistant",
                "model": body["model"],
                "content": blocks,
                "stop_reason": stop,
                "stop_sequence": None,
                "usage": usage,
            }
        )

    return Starlette(
        routes=[
            Route("/v1/embeddings", embeddings, methods=["POST"]),
            Route("/v1/chat/completions", chat, methods=["POST"]),
            Route("/v1/messages", messages, methods=["POST"]),
        ]
    )


async def _arrived(script: Script, body: dict[str, Any]) -> Response | None:
    """Record a chat request, wait as scripted; the scripted failure, if any."""
    script.chat_requests.append(body)
    script.chat_arrivals.append(asyncio.get_running_loop().time())
    await asyncio.sleep(script.chat_delay_s)
    return _failure(script, script.chat_failures)


def _reply(script: Script) -> tuple[str, list[dict[str, Any]]]:
    """The next reply's text and tool calls."""
    reply = script.replies.pop(0) if len(script.replies) > 1 else script.replies[0]
    if isinstance(reply, str):
        return reply, []
    return str(reply.get("content", "")), list(reply.get("tool_calls", []))


async def _streamed_messages(
    script: Script,
    model: str,
    blocks: list[dict[str, Any]],
    stop: str,
    usage: dict[str, int],
) -> AsyncIterator[str]:
    def event(kind: str, **data: Any) -> str:
        return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n"

    message: dict[str, Any] = {
        "id": "msg_stream",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": usage["input_tokens"], "output_tokens": 1},
    }
    try:
        yield event("message_start", message=message)
        for index, block in enumerate(blocks):
            if block["type"] == "text":
                yield event(
                    "content_block_start", index=index, content_block={"type": "text", "text": ""}
                )
                for n, word in enumerate(block["text"].split(" ")):
                    if script.stream_break_after is not None and n >= script.stream_break_after:
                        raise ConnectionResetError("the scripted stream breaks")
                    await asyncio.sleep(script.stream_delay_s)
                    delta = {"type": "text_delta", "text": word if n == 0 else " " + word}
                    yield event("content_block_delta", index=index, delta=delta)
            else:
                start = {**block, "input": {}}
                yield event("content_block_start", index=index, content_block=start)
                partial = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
                yield event("content_block_delta", index=index, delta=partial)
            yield event("content_block_stop", index=index)
        yield event(
            "message_delta",
            delta={"stop_reason": stop, "stop_sequence": None},
            usage={"output_tokens": usage["output_tokens"]},
        )
        yield event("message_stop")
    except asyncio.CancelledError:
        script.streams_closed += 1
        raise


async def _streamed(
    script: Script,
    model: str,
    text: str,
    calls: list[dict[str, Any]],
    usage: dict[str, int],
) -> AsyncIterator[str]:
    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        body = {
            "id": "chatcmpl-stream",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]
            if delta or finish
            else [],
            **extra,
        }
        return f"data: {json.dumps(body)}\n\n"

    try:
        yield chunk({"role": "assistant", "content": ""})
        words = text.split(" ") if text else []
        for index, word in enumerate(words):
            if script.stream_break_after is not None and index >= script.stream_break_after:
                raise ConnectionResetError("the scripted stream breaks")
            await asyncio.sleep(script.stream_delay_s)
            yield chunk({"content": word if index == 0 else " " + word})
        for index, call in enumerate(calls):
            yield chunk({"tool_calls": [{"index": index, **call}]})
        yield chunk({}, "tool_calls" if calls else "stop")
        yield chunk({}, usage=usage)
        yield "data: [DONE]\n\n"
    except asyncio.CancelledError:
        script.streams_closed += 1
        raise


@asynccontextmanager
async def scripted_openai(script: Script) -> AsyncIterator[str]:
    """Serve `script`; yields the base URL (`http://127.0.0.1:PORT/v1`)."""
    async with on_loopback(_app(script), log_level="critical") as port:
        yield f"http://127.0.0.1:{port}/v1"
