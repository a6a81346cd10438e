"""Migrations: the full round trip, and no drift between the models and the database."""

from __future__ import annotations

import asyncio
import multiprocessing
import uuid
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from personae.db import migrate
from personae.db.embedded import EmbeddedPostgres
from personae.schema import metadata
from personae.startup import prepare_database
from personae.vault.crypto import new_key
from tests.conftest import create_database


def _drift(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"include_name": migrate.include_name, "compare_type": True}
    )
    return list(compare_metadata(context, metadata))


async def _inspect(url: str) -> tuple[list[Any], set[str]]:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            drift = await conn.run_sync(_drift)
            tables = set(
                (
                    await conn.execute(
                        text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                    )
                ).scalars()
            )
    finally:
        await engine.dispose()
    return drift, tables


def test_upgrade_downgrade_upgrade_round_trip_without_drift(pg: EmbeddedPostgres) -> None:
    name = f"personae_roundtrip_{uuid.uuid4().hex[:6]}"
    create_database(pg, name)
    url = pg.url(database=name)

    migrate.upgrade(url)
    drift, tables = asyncio.run(_inspect(url))
    assert drift == []
    assert set(metadata.tables) <= tables

    migrate.downgrade(url, "base")
    drift, tables = asyncio.run(_inspect(url))
    assert tables == {"alembic_version"}

    migrate.upgrade(url)
    drift, tables = asyncio.run(_inspect(url))
    assert drift == [], f"models and migrations disagree: {drift[:5]}"
    assert set(metadata.tables) <= tables


def test_history_lists_the_head() -> None:
    revisions = [revision for revision, _ in migrate.history()]
    assert revisions[0] == migrate.head()


def _start(url: str, key: bytes) -> None:
    """What `personae serve` does to the database before serving (in a process of its own:
    Alembic's context is one per process)."""
    migrate.upgrade(url)
    asyncio.run(prepare_database(url, key))


def test_two_servers_starting_on_a_fresh_database_do_not_race(pg: EmbeddedPostgres) -> None:
    name = f"personae_race_{uuid.uuid4().hex[:6]}"
    create_database(pg, name)
    url = pg.url(database=name)
    key = new_key()
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        for started in [pool.submit(_start, url, key) for _ in range(2)]:
            started.result()  # neither raised
    drift, tables = asyncio.run(_inspect(url))
    assert drift == [] and set(metadata.tables) <= tables


async def _personas(url: str, sql: str) -> list[tuple[str, bool]]:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            if sql:
                await conn.execute(text(sql))
            rows = await conn.execute(
                text("SELECT name, deleted_at IS NULL FROM personas ORDER BY created_at, id")
            )
            return [(name, live) for name, live in rows]
    finally:
        await engine.dispose()


def test_live_duplicate_persona_names_are_told_apart_on_upgrade(pg: EmbeddedPostgres) -> None:
    name = f"personae_names_{uuid.uuid4().hex[:6]}"
    create_database(pg, name)
    url = pg.url(database=name)
    migrate.upgrade(url, "0020")
    made = asyncio.run(
        _personas(
            url,
            "WITH t AS (INSERT INTO tenants (name, slug) VALUES ('T', 't') RETURNING id) "
            "INSERT INTO personas (tenant_id, name, deleted_at, created_at) "
            "SELECT t.id, n, d, now() + make_interval(secs => o) FROM t, (VALUES "
            "('Ada', NULL::timestamptz, 1), ('Ada', NULL, 2), ('Ada', now(), 3), ('Bob', NULL, 4)"
            ") AS v(n, d, o)",
        )
    )
    assert [n for n, _ in made] == ["Ada", "Ada", "Ada", "Bob"]
    migrate.upgrade(url)
    names = asyncio.run(_personas(url, ""))
    assert names[0] == ("Ada", True) and names[2] == ("Ada", False) and names[3] == ("Bob", True)
    assert names[1][0].startswith("Ada (") and names[1][1]  # the later live one, told apart
