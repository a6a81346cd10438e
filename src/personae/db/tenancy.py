"""Tenant-bound transactions: the one way application code reaches tenant-owned rows.

Row-level security filters every tenant-owned table on `personae.tenant_id`; this helper
sets it with `SET LOCAL` semantics (it ends with the transaction)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Connection, event, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from personae.db.after_commit import run_hooks
from personae.db.binding import binding

BIND_TENANT = text("SELECT set_config('personae.tenant_id', :tenant, true)")
BIND_TENANT_AND_EFFORT = text(
    "SELECT set_config('personae.tenant_id', :tenant, true), "
    "set_config('hnsw.ef_search', :ef_search, true)"
)
SEARCH_EFFORT = text("SELECT set_config('hnsw.ef_search', :ef_search, true)")
EVERY_TENANT = text("SELECT id FROM tenants")
_TENANT = "personae.tenant_id"
_EF_SEARCH = "hnsw.ef_search"


async def bind_tenant(conn: AsyncSession | AsyncConnection, tenant_id: uuid.UUID) -> None:
    """Bind the current transaction to `tenant_id` (must be inside a transaction)."""
    await conn.execute(BIND_TENANT, {"tenant": str(tenant_id)})


@asynccontextmanager
async def tenant_session(
    sessions: async_sessionmaker[AsyncSession],
    tenant_id: uuid.UUID,
    *,
    ef_search: int | None = None,
) -> AsyncIterator[AsyncSession]:
    """A session in one transaction bound to `tenant_id`; commits on success (then runs the
    after-commit hooks). `ef_search`: HNSW candidates for its vector searches (else the
    connection's `search_ef`), set with the tenant at no extra cost."""
    async with sessions() as session:
        bind_each_transaction(session, tenant_id)
        if ef_search is not None:
            await search_effort(session, ef_search)
        async with session.begin():
            yield session
        await run_hooks(session)


async def every_tenant(sessions: async_sessionmaker[AsyncSession]) -> list[uuid.UUID]:
    """The id of every tenant, for background work done tenant by tenant (each in its own
    `tenant_session`); `tenants` is the one table without row-level security."""
    async with sessions() as session:
        return list((await session.execute(EVERY_TENANT)).scalars())


async def search_effort(session: AsyncSession, ef_search: int) -> None:
    """HNSW candidates for the vector searches of `session` (else the connection's
    `search_ef`): set with the tenant as each transaction begins, at no extra round trip,
    and at once in the transaction under way, if any."""
    session.info[_EF_SEARCH] = str(ef_search)
    if session.in_transaction():
        await session.execute(SEARCH_EFFORT, {"ef_search": str(ef_search)})


def bind_each_transaction(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    """Bind every transaction `session` begins from now on to `tenant_id`, as it begins.

    Costs nothing until the session first touches the database."""
    session.info[_TENANT] = tenant_id


def bound_tenant(session: Session) -> uuid.UUID | None:
    """The tenant `bind_each_transaction` bound `session` to, if any."""
    tenant_id: uuid.UUID | None = session.info.get(_TENANT)
    return tenant_id


def _bind_on_begin(session: Session, _transaction: Any, connection: Connection) -> None:
    tenant_id = session.info.get(_TENANT)
    driver = binding(connection.connection.driver_connection)
    if tenant_id is None:
        if driver is not None:
            driver.forget_binding()
        return
    ef_search = session.info.get(_EF_SEARCH)
    if driver is not None and not driver.is_in_transaction():  # with the BEGIN to come
        driver.bind_with_begin(tenant_id, None if ef_search is None else int(ef_search))
    elif ef_search is None:  # a savepoint, or another driver: a statement of its own
        connection.execute(BIND_TENANT, {"tenant": str(tenant_id)})
    else:
        connection.execute(
            BIND_TENANT_AND_EFFORT, {"tenant": str(tenant_id), "ef_search": ef_search}
        )


def watch(session_class: type[Session]) -> None:
    """Have sessions of `session_class` bind each transaction as it begins."""
    event.listen(session_class, "after_begin", _bind_on_begin)
