"""What every benchmark shares: a throwaway migrated embedded PostgreSQL, and the report."""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from personae.db import migrate
from personae.db.embedded import EmbeddedPostgres
from personae.db.engine import DatabaseUrls, sessionmaker
from personae.identity.service import TenantCreated, create_tenant, sync_permissions
from personae.settings import APP_ROLE
from personae.startup import settle_heap


def measure_and_report(
    run: Callable[[DatabaseUrls], Coroutine[Any, Any, dict[str, Any]]],
) -> None:
    """Run `run` against a fresh database, print its figures, then one JSON line. The
    process settles its heap first, as `personae serve` does before serving (no full
    collection of the garbage collector walks what importing the app and its models
    allocated, in a measured request or in a served one)."""
    with tempfile.TemporaryDirectory(prefix="personae-bench-") as tmp:
        server = EmbeddedPostgres(Path(tmp))
        server.start()
        try:
            migrate.upgrade(server.url())
            settle_heap()
            urls = DatabaseUrls(owner=server.url(), app=server.url(user=APP_ROLE))
            figures = asyncio.run(run(urls))
        finally:
            server.stop()
    for key, value in figures.items():
        print(f"{key:>20}: {value}")
    print(json.dumps(figures))


async def new_tenant(
    urls: DatabaseUrls, name: str = "Bench", email: str = "bench@example.com"
) -> TenantCreated:
    """A tenant with its owner (the permission catalogue synced first), as the CLI makes it."""
    owner = create_async_engine(urls.owner, poolclass=NullPool)
    try:
        async with owner.begin() as conn:
            await sync_permissions(conn)
        maker = sessionmaker(owner)
        async with maker() as session, session.begin():
            return await create_tenant(session, name, email)
    finally:
        await owner.dispose()
