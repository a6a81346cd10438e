"""Tenant-bound transactions: the one way application code reaches tenant-owned rows.

Row-level security filters every tenant-owned table on `personae.tenant_id`; this helper
sets it with `SET LOCAL` semantics (it ends with the transaction)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

BIND_TENANT = text("SELECT set_config('personae.tenant_id', :tenant, true)")


async def bind_tenant(conn: AsyncSession | AsyncConnection, tenant_id: uuid.UUID) -> None:
    """Bind the current transaction to `tenant_id` (must be inside a transaction)."""
    await conn.execute(BIND_TENANT, {"tenant": str(tenant_id)})


@asynccontextmanager
async def tenant_session(
    sessions: async_sessionmaker[AsyncSession], tenant_id: uuid.UUID
) -> AsyncIterator[AsyncSession]:
    """A session in one transaction bound to `tenant_id`; commits on success."""
    async with sessions() as session, session.begin():
        await bind_tenant(session, tenant_id)
        yield session
