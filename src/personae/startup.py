"""Owner-side work before serving: partitions, the permission catalogue, the first data key.

Run after migrations by `personae serve` and the commands that need a ready database."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from personae.db.database import ensure_partitions
from personae.db.locks import STARTUP_XACT_LOCK
from personae.identity.service import sync_permissions
from personae.vault.keyring import ensure_data_key


async def prepare_database(owner_url: str, master_key: bytes) -> None:
    await ensure_partitions(owner_url)
    engine = create_async_engine(owner_url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            await conn.execute(STARTUP_XACT_LOCK)
            await sync_permissions(conn)
            await ensure_data_key(conn, master_key)
    finally:
        await engine.dispose()
