"""Advisory locks held till the end of the transaction, named by a string."""

from __future__ import annotations

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
