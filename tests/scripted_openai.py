"""A scripted OpenAI-compatible server on 127.0.0.1, for tests of provider adapters.

`/v1/embeddings` answers with the hashing embedder's vectors (so results are meaningful)
unless the script says to fail: `script.failures` are the next answers' status codes
(None: a normal answer), then normal answers; `script.down` fails everything.
`/v1/chat/completions` answers with `script.replies` in turn (then the last one again),
failing first as `script.chat_failures` say. Every request is recorded."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
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
    replies: list[str] = field(default_factory=lambda: ["A scripted reply."])
    chat_failures: list[int | None] = field(default_factory=list)
    chat_requests: list[dict[str, Any]] = field(default_factory=list)
    delay_s: float = 0.0
    """How long every embeddings answer takes."""


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
        script.chat_requests.append(body)
        if (failed := _failure(script, script.chat_failures)) is not None:
            return failed
        reply = script.replies.pop(0) if len(script.replies) > 1 else script.replies[0]
        return JSONResponse(
            {
                "id": f"chatcmpl-{len(script.chat_requests)}",
                "object": "chat.completion",
                "created": 0,
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": reply},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": sum(len(m["content"].split()) for m in body["messages"]),
                    "completion_tokens": len(reply.split()),
                    "total_tokens": 0,
                },
            }
        )

    return Starlette(
        routes=[
            Route("/v1/embeddings", embeddings, methods=["POST"]),
            Route("/v1/chat/completions", chat, methods=["POST"]),
        ]
    )


@asynccontextmanager
async def scripted_openai(script: Script) -> AsyncIterator[str]:
    """Serve `script`; yields the base URL (`http://127.0.0.1:PORT/v1`)."""
    async with on_loopback(_app(script), log_level="critical") as port:
        yield f"http://127.0.0.1:{port}/v1"
