"""The turn: Personae's own time in a full turn, against the raw limit.

One run on a throwaway embedded PostgreSQL, through the real app (in-process ASGI, signed
in with a bearer token), the persona holding 10,000 memories (the turns of its past
sessions) and 1,000 document chunks, speaking as an agent of 1,000 rules (each with five
examples; matched on every turn):
- a full turn, `POST /v1/sessions/{id}/messages` (non-streamed), against an
  OpenAI-compatible server on 127.0.0.1 that answers at once, in a process of its own
  (so what is measured is everything but a model's own time): p50 / p95, and each
  step's p50 from `run_steps`;
- the raw limit: a bare FastAPI endpoint that only appends one event to a session (one
  INSERT on the bare driver), served the same way, called right after each turn (so
  both see the machine as it is at the time: its speed varies by ±50% here).
The embedder is the hashing one unless `--embedder minilm` (embedding the message on the
CPU then takes ~10 ms of the turn). Last line: one JSON object.

    python bench/turn.py [--turns 200] [--memories 10000] [--chunks 1000] [--rules 1000]
                         [--embedder hashing]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import numpy as np
from fastapi import FastAPI

from personae.api.app import create_app
from personae.db.engine import DatabaseUrls
from personae.providers.embeddings import Embedders, label
from personae.settings import MODEL_ENDPOINT_HOSTS, Settings
from personae.startup import prepare_database
from personae.vault.crypto import new_key
from synthetic_rules import synthetic_rules
from throwaway import measure_and_report, new_tenant

DIMS = 384
TURNS_PER_SESSION = 20
PAST_SESSIONS = (
    "INSERT INTO sessions (tenant_id, id, persona_id) SELECT $1, s, $2 FROM unnest($3::uuid[]) s"
)
EPISODES = (
    "INSERT INTO episodes (id, tenant_id, persona_id, session_id, episode_type, content, "
    "embedding, embedding_model, embedding_status, occurred_at, valid_from) "
    "SELECT gen_random_uuid(), $1, $2, s, 'TURN', c, e::vector, $3, 'embedded', t, t "
    "FROM unnest($4::text[], $5::text[], $6::timestamptz[], $7::uuid[]) AS x(c, e, t, s)"
)
CHUNKS = (
    "INSERT INTO chunks (id, tenant_id, document_id, chunk_index, text, embedding, "
    "embedding_model) SELECT gen_random_uuid(), $1, $2, i, c, e::vector, $3 "
    "FROM unnest($4::int[], $5::text[], $6::text[]) AS x(i, c, e)"
)


def quantile(samples: list[float], q: float) -> float:
    return round(statistics.quantiles(samples, n=100)[int(q * 100) - 1], 3)


@asynccontextmanager
async def instant_model() -> AsyncIterator[str]:
    """An OpenAI-compatible chat endpoint that answers at once (`instant_model.py`, in a
    process of its own: none of its time is counted as ours)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    script = Path(__file__).with_name("instant_model.py")
    server = await asyncio.create_subprocess_exec(sys.executable, str(script), str(port))
    url = f"http://127.0.0.1:{port}/v1"
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(300):
                assert server.returncode is None, "the model server did not start"
                try:
                    await client.post(f"{url}/chat/completions", json={"model": "m"})
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
        yield url
    finally:
        server.terminate()
        await server.wait()


Post = Callable[..., Awaitable[Any]]


async def instant_persona(
    client: httpx.AsyncClient, password: str | None, model_url: str
) -> tuple[Post, dict[str, Any]]:
    """Sign the bench tenant's owner in (the client keeps the token) and make the persona
    "Bench" whose model is the instant one: a call that posts and checks, and the persona."""
    login = await client.post(
        "/v1/auth/login", json={"email": "bench@example.com", "password": password}
    )
    client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"

    async def post(path: str, **body: Any) -> Any:
        done = await client.post(path, json=body)
        assert done.is_success, done.text
        return done.json()

    await post(
        "/v1/model-configs",
        name="instant",
        provider="openai",
        model_name="instant",
        base_url=model_url,
        context_length=8192,
    )
    persona = await post(
        "/v1/personas", name="Bench", system_prompt="Be brief.", default_provider="instant"
    )
    return post, persona


def _vectors(n: int, rng: np.random.Generator) -> list[str]:
    raw = rng.normal(size=(n, DIMS)).astype(np.float32)
    raw /= np.linalg.norm(raw, axis=1, keepdims=True)
    return ["[" + ",".join(f"{x:.5f}" for x in row) + "]" for row in raw]


async def load_memories(
    urls: DatabaseUrls, tenant: uuid.UUID, persona: uuid.UUID, model: str, args: argparse.Namespace
) -> float:
    """The persona's memories (the turns of its past sessions, `TURNS_PER_SESSION` each: a
    hit's neighbours are looked up as in real use) and the tenant's chunks, straight into
    the tables."""
    rng = np.random.default_rng(5)
    words = [f"w{i}" for i in range(2000)]
    owner = await asyncpg.connect(urls.owner.replace("postgresql+asyncpg://", "postgresql://"))
    started = time.perf_counter()
    texts = [" ".join(rng.choice(words, 15)) for _ in range(args.memories)]
    base = datetime(2025, 1, 1, tzinfo=UTC)
    times = [base + timedelta(minutes=i) for i in range(args.memories)]
    past = [uuid.uuid4() for _ in range(0, args.memories, TURNS_PER_SESSION)]
    await owner.execute(PAST_SESSIONS, tenant, persona, past)
    in_session = [past[i // TURNS_PER_SESSION] for i in range(args.memories)]
    await owner.execute(
        EPISODES, tenant, persona, model, texts, _vectors(args.memories, rng), times, in_session
    )
    document = uuid.uuid4()
    await owner.execute(
        "INSERT INTO documents (tenant_id, id, name, persona_id) VALUES ($1, $2, 'bench', $3)",
        tenant,
        document,
        persona,
    )
    chunk_texts = [" ".join(rng.choice(words, 60)) for _ in range(args.chunks)]
    await owner.execute(
        CHUNKS,
        tenant,
        document,
        model,
        list(range(args.chunks)),
        chunk_texts,
        _vectors(args.chunks, rng),
    )
    await owner.execute("VACUUM ANALYZE episodes")  # as autovacuum would: GIN pending list merged
    await owner.execute("VACUUM ANALYZE chunks")
    await owner.close()
    return time.perf_counter() - started


@asynccontextmanager
async def _bare_append(urls: DatabaseUrls) -> AsyncIterator[Callable[[uuid.UUID, uuid.UUID], Any]]:
    """A bare FastAPI endpoint appending one event with one INSERT, as the raw limit: a
    call of it, timed (ms), for a session of a tenant."""
    pool = await asyncpg.create_pool(
        urls.owner.replace("postgresql+asyncpg://", "postgresql://"), min_size=1, max_size=2
    )
    app = FastAPI()

    @app.post("/append/{tenant}/{session_id}")
    async def append(tenant: uuid.UUID, session_id: uuid.UUID) -> dict[str, int]:
        seq = await pool.fetchval(
            "INSERT INTO session_events (tenant_id, session_id, seq, event_type, payload) "
            "SELECT $1, $2, coalesce(max(seq), 0) + 1000000, 'note', '{\"text\": \"x\"}' "
            "FROM session_events WHERE session_id = $2 RETURNING seq",
            tenant,
            session_id,
        )
        return {"seq": seq}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bare") as client:

        async def timed(tenant: uuid.UUID, session_id: uuid.UUID) -> float:
            started = time.perf_counter()
            done = await client.post(f"/append/{tenant}/{session_id}")
            assert done.status_code == 200, done.text
            return (time.perf_counter() - started) * 1000

        try:
            yield timed
        finally:
            await pool.close()


async def run(urls: DatabaseUrls, args: argparse.Namespace) -> dict[str, Any]:
    created = await new_tenant(urls)
    tenant = created.tenant.id
    master = new_key()
    await prepare_database(urls.owner, master)
    settings = Settings(
        worker=False,
        log_level="warning",
        embedder=args.embedder,
        model_endpoint_hosts=[*MODEL_ENDPOINT_HOSTS, "127.0.0.1"],  # the scripted model
    )
    model = label(Embedders(settings).default)
    app = create_app(settings, urls, master_key=master)
    transport = httpx.ASGITransport(app=app)
    async with (
        instant_model() as model_url,
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://bench") as client,
        _bare_append(urls) as bare_append,
    ):
        post, persona = await instant_persona(client, created.one_time_password, model_url)
        auth = {"Authorization": client.headers["Authorization"]}
        # the app loads its embedding model in the background as it starts: not while timing
        await app.state.services.embedders.default.embed(["warm up"])
        tools = (await client.get("/v1/tools", headers=auth)).json()["items"]
        for tool in tools:
            if tool["name"] in ("calculator", "current_time"):
                await post(f"/v1/personas/{persona['id']}/tools", tool_id=tool["id"])
        load_s = await load_memories(urls, tenant, uuid.UUID(persona["id"]), model, args)
        agent = await post("/v1/agents", name="bench-agent", persona_id=persona["id"])
        if args.rules:
            rules = f"/v1/agents/{agent['id']}/rules/import"
            for start in range(0, args.rules, 1000):
                await post(rules, rules=synthetic_rules(args.rules)[start : start + 1000])
            owner = await asyncpg.connect(
                urls.owner.replace("postgresql+asyncpg://", "postgresql://")
            )
            await owner.execute("VACUUM ANALYZE rule_phrasings")  # as autovacuum would
            await owner.execute("VACUUM ANALYZE rules")
            await owner.close()

        sessions: list[str] = []
        latencies: list[float] = []
        runs: list[str] = []
        bare: list[float] = []
        for i in range(args.turns + args.warmup):
            if i % TURNS_PER_SESSION == 0:
                made = await post("/v1/sessions", persona_id=persona["id"], agent_id=agent["id"])
                sessions.append(made["id"])
            started = time.perf_counter()
            done = await post(
                f"/v1/sessions/{sessions[-1]}/messages",
                content=f"What did we say about w{i % 2000} and w{(i * 7) % 2000}?",
            )
            elapsed = (time.perf_counter() - started) * 1000
            assert done["run"]["status"] == "completed", done
            # the raw limit, right after: both see the machine as it is at the time
            raw = await bare_append(tenant, uuid.UUID(sessions[-1]))
            if i >= args.warmup:
                latencies.append(elapsed)
                bare.append(raw)
                runs.append(done["run"]["id"])
        per_step: dict[str, list[float]] = defaultdict(list)
        for run_id in runs:
            steps = (await client.get(f"/v1/runs/{run_id}/steps", headers=auth)).json()
            for step in steps:
                per_step[step["step_type"]].append(step["duration_ms"])

    p50, p95 = statistics.median(latencies), quantile(latencies, 0.95)
    bare_p50 = statistics.median(bare)
    return {
        "turns": len(latencies),
        "memories": args.memories,
        "chunks": args.chunks,
        "rules": args.rules,
        "embedder": model,
        "load_s": round(load_s, 1),
        "overhead_p50_ms": round(p50, 3),
        "overhead_p95_ms": p95,
        "steps": {name: round(statistics.median(v), 1) for name, v in sorted(per_step.items())},
        "bare_append_p50_ms": round(bare_p50, 3),
        "ratio": round(p50 / bare_p50, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--memories", type=int, default=10_000)
    parser.add_argument("--chunks", type=int, default=1_000)
    parser.add_argument("--rules", type=int, default=1_000)
    parser.add_argument("--embedder", default="hashing", choices=["hashing", "minilm"])
    args = parser.parse_args()
    measure_and_report(lambda urls: run(urls, args))


if __name__ == "__main__":
    main()
