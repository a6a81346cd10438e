"""What a process does once before it serves: the owner-side work on the database
(partitions, the permission catalogue, the first data key), run after migrations by
`personae serve` and the commands that need a ready database; and the heap settled.

The heap: what starting up allocated (modules, models, the app) lives as long as the
process, yet every full collection of the garbage collector walks it again: 150-180 ms a
pass once torch and the app are loaded, paid by whichever request happens to allocate at
that moment. Frozen (`gc.freeze`), it is left out of the collector's sweeps."""

from __future__ import annotations

import gc

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


def settle_heap() -> None:
    """Collect what starting up left behind, then keep the rest out of later collections;
    called once a process has loaded what it serves with (the API, a worker)."""
    gc.collect()
    gc.freeze()
