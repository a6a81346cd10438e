"""The OpenAI front door: a streamed turn through it against the same turn through the
native API, in one run.

On a throwaway embedded PostgreSQL, the real app behind uvicorn on 127.0.0.1 (so streams
arrive as they are sent), an API token with the `openai:chat` preset, the persona holding
10,000 memories and 1,000 chunks (as `turn.py` loads them), its model an OpenAI-compatible
server that answers at once in a process of its own (`instant_model.py`, streamed):
- front door: `POST /openai/v1/chat/completions` with `stream: true` and `user` (the
  person's session continued, their customer profile scoping the memories), read to
  `[DONE]`; the first content delta's arrival is the first-token latency;
- native: `POST /v1/sessions/{id}/messages` with `stream: true` on one session, read to
  its end (`run.completed`);
taken in turn, the order swapped every turn (both see the machine as it is at the time).
Times are the client's on loopback: the model's own time is nil, so what is measured is
Personae's. Last line: one JSON object.

    python bench/front_door.py [--turns 200] [--memories 10000] [--chunks 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from personae.api.app import create_app
from personae.db.engine import DatabaseUrls
from personae.providers.embeddings import Embedders, label
from personae.settings import MODEL_ENDPOINT_HOSTS, Settings
from personae.startup import prepare_database
from personae.vault.crypto import new_key
from throwaway import measure_and_report, new_tenant
from turn import instant_model, instant_persona, load_memories, quantile

TARGET_RATIO = 1.1


@asynccontextmanager
async def on_loopback(app: FastAPI) -> AsyncIterator[str]:
    """The app behind uvicorn on 127.0.0.1, its lifespan run: its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "the server did not start"
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        await task


async def timed_stream(
    client: httpx.AsyncClient, path: str, body: dict[str, Any], first: str, last: str
) -> tuple[float, float]:
    """(ms to the first line holding `first`, ms to the line holding `last`) of a stream."""
    started = time.perf_counter()
    first_ms = None
    async with client.stream("POST", path, json=body) as response:
        assert response.status_code == 200, await response.aread()
        async for line in response.aiter_lines():
            if first_ms is None and first in line:
                first_ms = (time.perf_counter() - started) * 1000
            if last in line:
                break
    assert first_ms is not None, f"no {first!r} in the stream"
    return first_ms, (time.perf_counter() - started) * 1000


async def run(urls: DatabaseUrls, args: argparse.Namespace) -> dict[str, Any]:
    created = await new_tenant(urls)
    master = new_key()
    await prepare_database(urls.owner, master)
    settings = Settings(
        worker=False,
        log_level="warning",
        embedder="hashing",
        model_endpoint_hosts=[*MODEL_ENDPOINT_HOSTS, "127.0.0.1"],  # the instant model
    )
    model = label(Embedders(settings).default)
    app = create_app(settings, urls, master_key=master)
    async with instant_model() as model_url, on_loopback(app) as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as owner:
            post, persona = await instant_persona(owner, created.one_time_password, model_url)
            token = (await post("/v1/tokens", name="bench", scopes=["openai:chat"]))["token"]
        await load_memories(urls, created.tenant.id, uuid.UUID(persona["id"]), model, args)

        async with httpx.AsyncClient(
            base_url=base, timeout=30, headers={"Authorization": f"Bearer {token}"}
        ) as client:
            session = await client.post("/v1/sessions", json={"persona_id": persona["id"]})
            native_path = f"/v1/sessions/{session.json()['id']}/messages"

            async def front_door(text: str) -> tuple[float, float]:
                body = {
                    "model": "Bench",
                    "messages": [{"role": "user", "content": text}],
                    "stream": True,
                    "user": "bench-user",
                }
                return await timed_stream(
                    client, "/openai/v1/chat/completions", body, '"content": "Noted', "[DONE]"
                )

            async def native(text: str) -> tuple[float, float]:
                body = {"content": text, "stream": True}
                return await timed_stream(
                    client, native_path, body, "event: token", "run.completed"
                )

            front: list[tuple[float, float]] = []
            ours: list[tuple[float, float]] = []
            for i in range(args.turns + args.warmup):
                text = f"What did we say about w{i % 2000} and w{(i * 7) % 2000}?"
                if i % 2:
                    timed_front, timed_native = await front_door(text), await native(text)
                else:
                    timed_native, timed_front = await native(text), await front_door(text)
                if i >= args.warmup:
                    front.append(timed_front)
                    ours.append(timed_native)

    front_total = [total for _, total in front]
    native_total = [total for _, total in ours]
    p50, native_p50 = statistics.median(front_total), statistics.median(native_total)
    return {
        "turns": len(front),
        "memories": args.memories,
        "chunks": args.chunks,
        "front_door_p50_ms": round(p50, 3),
        "front_door_p95_ms": quantile(front_total, 0.95),
        "native_p50_ms": round(native_p50, 3),
        "native_p95_ms": quantile(native_total, 0.95),
        "front_door_ratio": round(p50 / native_p50, 3),
        "first_token_p50_ms": round(statistics.median(f for f, _ in front), 3),
        "first_token_p95_ms": quantile([f for f, _ in front], 0.95),
        "native_first_token_p50_ms": round(statistics.median(f for f, _ in ours), 3),
        "target_ratio": TARGET_RATIO,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--memories", type=int, default=10_000)
    parser.add_argument("--chunks", type=int, default=1_000)
    args = parser.parse_args()
    measure_and_report(lambda urls: run(urls, args))


if __name__ == "__main__":
    main()
