"""Session event appends through our service layer against the raw driver, in one run.

What is measured (part of issue 4's benchmark; the cache and SSE figures come later):
- single-event appends per second through `sessions.log.append` (tenant bind, lock,
  validation, derived message, envelope, audit, NOTIFY; one transaction each) vs a bare
  asyncpg `INSERT` + `COMMIT` loop into the same table;
- 100-event batches through `append` vs bare `executemany` of the same rows.
Runs on a throwaway embedded PostgreSQL. Last line: one JSON object.

    python bench/sessions.py [--appends 2000] [--batches 50]
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from personae.db.engine import DatabaseUrls, create_engine, sessionmaker
from personae.db.tenancy import tenant_session
from personae.identity.principal import Principal
from personae.identity.service import create_tenant, sync_permissions
from personae.sessions import log
from personae.sessions.service import SESSIONS
from personae.settings import Settings
from throwaway import measure_and_report

RAW_INSERT = (
    "INSERT INTO session_events (tenant_id, session_id, seq, event_type, payload) "
    "VALUES ($1, $2, $3, 'message.user', $4::jsonb)"
)


async def _new_session(sessions: Any, principal: Principal) -> uuid.UUID:
    async with tenant_session(sessions, principal.tenant_id) as session:
        row = await SESSIONS.create(session, principal, {})
        return uuid.UUID(str(row.id))


async def run(urls: DatabaseUrls, appends: int, batches: int) -> dict[str, Any]:
    owner = create_async_engine(urls.owner, poolclass=NullPool)
    async with owner.begin() as conn:
        await sync_permissions(conn)
    async with async_sessionmaker(owner, expire_on_commit=False)() as session, session.begin():
        created = await create_tenant(session, "Bench", "bench@example.com")
    await owner.dispose()
    tenant = created.tenant.id
    principal = Principal.system(tenant)
    engine = create_engine(urls.app, Settings(pool_size=2))
    sessions = sessionmaker(engine)
    event = log.NewEvent("message.user", {"content": "hello there"})

    target = await _new_session(sessions, principal)
    start = time.perf_counter()
    for _ in range(appends):
        async with tenant_session(sessions, tenant) as session:
            await log.append(session, principal, target, [event])
    append_s = time.perf_counter() - start

    target = await _new_session(sessions, principal)
    start = time.perf_counter()
    for _ in range(batches):
        async with tenant_session(sessions, tenant) as session:
            await log.append(session, principal, target, [event] * 100)
    batch_s = time.perf_counter() - start
    await engine.dispose()

    raw = await asyncpg.connect(urls.owner.replace("postgresql+asyncpg", "postgresql"))
    try:
        target = uuid.uuid4()
        await raw.execute("INSERT INTO sessions (tenant_id, id) VALUES ($1, $2)", tenant, target)
        payload = json.dumps({"content": "hello there"})
        start = time.perf_counter()
        for seq in range(1, appends + 1):
            async with raw.transaction():
                await raw.execute(RAW_INSERT, tenant, target, seq, payload)
        raw_append_s = time.perf_counter() - start
        start = time.perf_counter()
        seq = appends
        for _ in range(batches):
            rows = [(tenant, target, seq + i + 1, payload) for i in range(100)]
            seq += 100
            async with raw.transaction():
                await raw.executemany(RAW_INSERT, rows)
        raw_batch_s = time.perf_counter() - start
    finally:
        await raw.close()

    append_per_s = appends / append_s
    raw_append_per_s = appends / raw_append_s
    batch_per_s = batches * 100 / batch_s
    raw_batch_per_s = batches * 100 / raw_batch_s
    return {
        "appends": appends,
        "append_per_s": round(append_per_s, 1),
        "raw_append_per_s": round(raw_append_per_s, 1),
        "append_ratio": round(append_per_s / raw_append_per_s, 3),
        "batch_per_s": round(batch_per_s, 1),
        "raw_batch_per_s": round(raw_batch_per_s, 1),
        "batch_ratio": round(batch_per_s / raw_batch_per_s, 3),
        "target_ratio": 0.5,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--appends", type=int, default=2000)
    parser.add_argument("--batches", type=int, default=50)
    args = parser.parse_args()
    measure_and_report(lambda urls: run(urls, args.appends, args.batches))


if __name__ == "__main__":
    main()
