"""A scripted OpenAI-compatible server on 127.0.0.1, for tests of provider adapters.

`/v1/embeddings` answers with the hashing embedder's vectors (so results are meaningful)
unless the script says to fail: `script.failures` are the next answers' status codes
(None: a normal answer), then normal answers; `script.down` fails everything. Every
request is recorded."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from personae.providers.embeddings import HashingEmbedder


@dataclass
class Script:
    failures: list[int | None] = field(default_factory=list)
    dimensions: int = 384
    requests: list[dict[str, Any]] = field(default_factory=list)
    down: bool = False
    """Fail every request with 503 while set."""


def _app(script: Script) -> Starlette:
    async def embeddings(request: Request) -> Response:
        body = await request.json()
        script.requests.append(body)
        if script.down:
            return JSONResponse({"error": {"message": "down for maintenance"}}, status_code=503)
        failure = script.failures.pop(0) if script.failures else None
        if failure is not None:
            return JSONResponse({"error": {"message": "scripted failure"}}, status_code=failure)
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

    return Starlette(routes=[Route("/v1/embeddings", embeddings, methods=["POST"])])


@asynccontextmanager
async def scripted_openai(script: Script) -> AsyncIterator[str]:
    """Serve `script`; yields the base URL (`http://127.0.0.1:PORT/v1`)."""
    server = uvicorn.Server(
        uvicorn.Config(_app(script), host="127.0.0.1", port=0, log_level="critical")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "the scripted server did not start"
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        await task
