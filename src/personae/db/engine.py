"""Async engines for the two roles: the owner (migrations only) and the application role."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from personae.db import after_commit, binding, tenancy
from personae.db.binding import BindingConnection
from personae.errors import ConfigurationError
from personae.settings import APP_ROLE, Settings


@dataclass(frozen=True)
class DatabaseUrls:
    """Where to connect. `app_role` is set when the app must switch role after connecting."""

    owner: str
    app: str
    app_role: str | None = None

    def __repr__(self) -> str:  # the URLs hold passwords
        def shown(url: str) -> str:
            return make_url(url).render_as_string(hide_password=True)

        return f"DatabaseUrls(owner={shown(self.owner)!r}, app={shown(self.app)!r})"


def async_url(url: str) -> str:
    """Normalise a postgres:// or postgresql:// URL to the asyncpg driver."""
    try:
        parsed = make_url(url)
    except Exception:
        raise ConfigurationError(
            "PERSONAE_DATABASE_URL is not a valid URL; use postgresql://user:password@host/db"
        ) from None
    if parsed.get_backend_name() not in ("postgres", "postgresql"):
        raise ConfigurationError(
            f"PERSONAE_DATABASE_URL names {parsed.get_backend_name()!r}, not PostgreSQL; "
            "use postgresql://user:password@host/db"
        )
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def external_urls(settings: Settings) -> DatabaseUrls:
    """URLs for an external server given by PERSONAE_DATABASE_URL (and optionally the app URL)."""
    assert settings.database_url is not None
    owner = async_url(settings.database_url.get_secret_value())
    if settings.app_database_url is not None:
        return DatabaseUrls(owner, async_url(settings.app_database_url.get_secret_value()))
    return DatabaseUrls(owner, owner, app_role=APP_ROLE)


def _connect_args(settings: Settings, role: str | None) -> dict[str, Any]:
    server_settings = {
        "application_name": "personae",
        "statement_timeout": str(settings.statement_timeout_ms),
        # pgvector ≥ 0.8: keep scanning the HNSW index until enough rows pass the filters
        # (row-level security included); earlier versions ignore these.
        "hnsw.iterative_scan": "relaxed_order",
        "hnsw.ef_search": str(settings.search_ef),
    }
    if role is not None:
        server_settings["role"] = role
    return {
        "timeout": settings.connect_timeout_s,
        "server_settings": server_settings,
        "connection_class": BindingConnection,  # tenant bound with each BEGIN
    }


Watcher = Callable[[type[Session]], None]
"""Adds listeners to a session class (`tenancy.watch`, `AccessCache.watch`…)."""


def create_engine(url: str, settings: Settings, *, role: str | None = None) -> AsyncEngine:
    """An asyncpg engine with explicit pool, connect and statement time limits."""
    engine = create_async_engine(
        url,
        pool_size=settings.pool_size,
        max_overflow=settings.pool_size,
        pool_pre_ping=settings.pool_pre_ping,
        pool_recycle=settings.pool_recycle_s,
        connect_args=_connect_args(settings, role),
    )
    binding.watch(engine)
    return engine


def create_listen_engine(url: str, settings: Settings, *, role: str | None = None) -> AsyncEngine:
    """An engine for one long-lived LISTEN connection (no pool: it is held for good)."""
    return create_async_engine(url, poolclass=NullPool, connect_args=_connect_args(settings, role))


def sessionmaker(
    engine: AsyncEngine,
    *,
    watchers: Sequence[Watcher] = (),
    info: Mapping[str, Any] | None = None,
) -> async_sessionmaker[AsyncSession]:
    """Sessions over `engine` that bind each transaction to its tenant (`tenancy`) and run
    after-commit hooks (`after_commit`), and whatever `watchers` add; `info` is copied
    into every session's `info`. Listeners go on a session class of this maker's own:
    importing a module registers none, and other sessions are left alone."""
    session_class = type("PersonaeSession", (Session,), {})
    for watch in (tenancy.watch, after_commit.watch, *watchers):
        watch(session_class)
    return async_sessionmaker(
        engine, expire_on_commit=False, info=dict(info or {}), sync_session_class=session_class
    )
