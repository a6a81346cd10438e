"""Advisory locks held till the end of the transaction, named by a string."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

STARTUP = "personae:startup"
"""Held by whoever migrates or prepares the database, so that two servers starting on one
fresh database take turns (the second then finds nothing left to do)."""
STARTUP_LOCK = text(f"SELECT pg_advisory_lock(hashtextextended('{STARTUP}', 0))")
STARTUP_XACT_LOCK = text(f"SELECT pg_advisory_xact_lock(hashtextextended('{STARTUP}', 0))")

_ALONE = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")
_SHARED = text("SELECT pg_advisory_xact_lock_shared(hashtextextended(:key, 0))")


async def hold(session: AsyncSession, key: str, *, shared: bool = False) -> None:
    """Wait for and hold the lock `key` until the transaction ends (`shared`: alongside
    other shared holders, never alongside the one who holds it alone)."""
    await session.execute(_SHARED if shared else _ALONE, {"key": key})


_ALL = text(
    "SELECT count(pg_advisory_xact_lock(hashtextextended(key, 0))) "
    "FROM (SELECT DISTINCT key FROM unnest(CAST(:keys AS text[])) AS key ORDER BY key) AS k"
)


async def hold_all(session: AsyncSession, keys: Collection[str]) -> None:
    """`hold` each of `keys`, in one statement and in sorted order (two writers who want
    some of the same locks take them in the same order, so neither waits for the other
    forever)."""
    if keys:
        await session.execute(_ALL, {"keys": list(keys)})
