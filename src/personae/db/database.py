"""Opening the database a Personae process runs on: embedded or external, checked first.

`open_database` yields the connection URLs once the server is known to be reachable,
PostgreSQL ≥ 16 and able to load pgvector; otherwise it raises `ConfigurationError` with a
one-line message that names the problem and the fix."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from personae.db.embedded import EmbeddedPostgres
from personae.db.engine import DatabaseUrls, external_urls
from personae.db.locks import STARTUP_XACT_LOCK
from personae.errors import ConfigurationError
from personae.settings import APP_ROLE, Settings

MIN_SERVER_VERSION = 160000
MIN_PGVECTOR = (0, 7)
EXTERNAL_FIX = "check PERSONAE_DATABASE_URL, or unset it to use the embedded database"


@dataclass(frozen=True)
class ServerInfo:
    postgres_version: str
    pgvector_available: str


def _where(url: str) -> str:
    parsed = make_url(url)
    host = parsed.host or parsed.query.get("host") or "localhost"
    return f"{host}:{parsed.port or 5432}/{parsed.database or ''}"


async def inspect_server(owner_url: str, *, timeout_s: float) -> ServerInfo:
    """Connect as the owner and check version and pgvector, or raise ConfigurationError."""
    where = _where(owner_url)
    engine = create_async_engine(owner_url, poolclass=NullPool, connect_args={"timeout": timeout_s})
    try:
        async with engine.connect() as conn:
            version_num = int((await conn.execute(text("SHOW server_version_num"))).scalar_one())
            version = str((await conn.execute(text("SHOW server_version"))).scalar_one())
            vector = (
                await conn.execute(
                    text(
                        "SELECT default_version FROM pg_available_extensions WHERE name = 'vector'"
                    )
                )
            ).scalar_one_or_none()
    except (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError):
        raise ConfigurationError(
            f"PostgreSQL at {where} rejected the user or password; {EXTERNAL_FIX}"
        ) from None
    except asyncpg.InvalidCatalogNameError:
        raise ConfigurationError(
            f"database at {where} does not exist; create it (createdb) or {EXTERNAL_FIX}"
        ) from None
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise ConfigurationError(
            f"cannot reach PostgreSQL at {where} ({reason}); {EXTERNAL_FIX}"
        ) from None
    finally:
        await engine.dispose()
    if version_num < MIN_SERVER_VERSION:
        raise ConfigurationError(
            f"PostgreSQL at {where} is version {version}; Personae needs 16 or newer: "
            f"upgrade the server, or {EXTERNAL_FIX}"
        )
    if vector is None or _version_tuple(vector) < MIN_PGVECTOR:
        found = "has no pgvector extension" if vector is None else f"has pgvector {vector}"
        raise ConfigurationError(
            f"PostgreSQL at {where} {found}; install pgvector 0.7 or newer on that server "
            "(packages postgresql-NN-pgvector), or unset PERSONAE_DATABASE_URL to use the "
            "embedded database"
        )
    return ServerInfo(postgres_version=version, pgvector_available=vector)


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".") if part.isdigit())


@contextlib.contextmanager
def open_database(settings: Settings) -> Iterator[DatabaseUrls]:
    """Start the embedded server when no URL is configured; check the server; yield URLs."""
    if settings.database_url is not None:
        urls = external_urls(settings)
        asyncio.run(inspect_server(urls.owner, timeout_s=settings.connect_timeout_s))
        yield urls
        return
    server = EmbeddedPostgres(
        settings.data_dir,
        buffers_mb=settings.embedded_shared_buffers_mb,
        listen=settings.embedded_listen,
    )
    server.start()
    try:
        urls = DatabaseUrls(owner=server.url(), app=server.url(user=APP_ROLE))
        asyncio.run(inspect_server(urls.owner, timeout_s=settings.connect_timeout_s))
        yield urls
    finally:
        server.stop()


async def schema_revision(engine: AsyncEngine) -> str | None:
    """The migration revision the database is at (None before the first migration)."""
    async with engine.connect() as conn:
        exists = (
            await conn.execute(text("SELECT to_regclass('public.alembic_version') IS NOT NULL"))
        ).scalar_one()
        if not exists:
            return None
        return (
            await conn.execute(text("SELECT version_num FROM alembic_version"))
        ).scalar_one_or_none()


async def ensure_partitions(owner_url: str) -> int:
    """Create the monthly partitions around now for every partitioned table (as the owner)."""
    engine = create_async_engine(owner_url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            await conn.execute(STARTUP_XACT_LOCK)
            created = (
                await conn.execute(
                    text(
                        "SELECT coalesce(sum(personae_ensure_partitions(c.oid::regclass)), 0) "
                        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE c.relkind = 'p' AND n.nspname = 'public'"
                    )
                )
            ).scalar_one()
    finally:
        await engine.dispose()
    return int(created)
