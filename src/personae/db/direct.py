"""One statement straight through the driver, for the hot paths where SQLAlchemy's own
work per statement is a measurable share (see `bench/sessions.py`).

The connection comes from the engine's pool, so its role, statement timeout and limits
are the pool's; the statement runs in autocommit (committed when this returns). Errors
are the driver's (`db.errors.DATABASE_ERRORS`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine


async def fetch_value(engine: AsyncEngine, query: str, *arguments: Any) -> Any:
    """The first column of the first row of `query` (positional `$1`… parameters)."""
    async with engine.connect() as connection:
        pooled = await connection.get_raw_connection()
        driver = pooled.driver_connection
        assert driver is not None, "a live pooled connection"
        return await driver.fetchval(query, *arguments)
