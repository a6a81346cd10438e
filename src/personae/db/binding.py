"""A transaction's tenant bound by the statement that opens it.

Row-level security reads `personae.tenant_id`, set (with `SET LOCAL` semantics) as each
tenant-bound transaction begins (`tenancy`). On the product's connections that setting
rides with the `BEGIN` that asyncpg sends before the transaction's first statement: one
round trip, not two. A binding left unsent (a transaction that ran nothing) is dropped
when the connection goes back to the pool, so it can never open another's transaction."""

from __future__ import annotations

import uuid
from typing import Any, cast

import asyncpg
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


class BindingConnection(asyncpg.Connection):  # type: ignore[misc] # untyped driver
    _with_begin: str | None = None

    def bind_with_begin(self, tenant_id: uuid.UUID, ef_search: int | None) -> None:
        """Send the binding with the next `BEGIN` (which must be the next statement)."""
        settings = [f"set_config('personae.tenant_id', '{uuid.UUID(str(tenant_id))}', true)"]
        if ef_search is not None:
            settings.append(f"set_config('hnsw.ef_search', '{int(ef_search)}', true)")
        self._with_begin = f"SELECT {', '.join(settings)};"

    def forget_binding(self) -> None:
        self._with_begin = None

    async def execute(
        self,
        query: str,
        *args: Any,
        timeout: float | None = None,  # noqa: ASYNC109 - asyncpg's own signature
    ) -> str:
        pending, self._with_begin = self._with_begin, None
        if pending is not None:
            if args or not query.startswith("BEGIN"):
                raise asyncpg.InterfaceError("a tenant binding must go with its BEGIN")
            query = f"{query} {pending}"
        status: str = await super().execute(query, *args, timeout=timeout)
        return status


def binding(driver: object) -> BindingConnection | None:
    """`driver` if it binds with its BEGIN (asyncpg's `isinstance` says yes to any of its
    connections, so the class is looked for itself)."""
    return cast(BindingConnection, driver) if BindingConnection in type(driver).__mro__ else None


def _forget(dbapi_connection: Any, _record: Any) -> None:
    driver = binding(getattr(dbapi_connection, "driver_connection", None))
    if driver is not None:
        driver.forget_binding()


def watch(engine: AsyncEngine) -> None:
    """Have `engine`'s pool drop a binding left unsent when a connection comes back."""
    event.listen(engine.sync_engine, "checkin", _forget)
