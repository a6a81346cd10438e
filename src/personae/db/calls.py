"""Calling our SQL functions on the hot path: one definition, the three ways a call is made.

A write path that is one SQL function (`db/sql/`) is called
- as a statement in the caller's ORM transaction (`SqlFunction.statement`);
- as a column of a statement that carries the caller's other writes as common table
  expressions, so that all go in one round trip (`with_writes`);
- alone, in autocommit, straight through the driver (`fetch_value` with
  `SqlFunction.direct`), where SQLAlchemy's own work per statement is a measurable share
  (see `bench/sessions.py`). The connection comes from the engine's pool, so its role,
  statement timeout and limits are the pool's; errors are the driver's
  (`db.errors.DATABASE_ERRORS`).
The tenant binding of the first two rides with the transaction's BEGIN (`db/binding.py`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

from sqlalchemy import Delete, Insert, Select, TextClause, Update, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine


@dataclass(frozen=True)
class SqlFunction:
    """`name(parameters…)`; a parameter written `name:type` is cast to that type."""

    name: str
    parameters: tuple[str, ...]

    def _arguments(self, bind: str) -> str:
        def one(index: int, parameter: str) -> str:
            name, _, cast = parameter.partition(":")
            value = bind.format(name=name, index=index)
            return f"CAST({value} AS {cast})" if cast else value

        return ", ".join(one(i, p) for i, p in enumerate(self.parameters, start=1))

    @cached_property
    def statement(self) -> TextClause:
        """`SELECT name(:parameter, …)`, for a session."""
        return text(f"SELECT {self.name}({self._arguments(':{name}')})")

    def column(self, prefix: str) -> TextClause:
        """The call as a column, its binds named `<prefix><parameter>`."""
        return text(f"{self.name}({self._arguments(':' + prefix + '{name}')})")

    @cached_property
    def direct(self) -> str:
        """`SELECT name($1, …)`, for the driver: values in the parameters' order."""
        return f"SELECT {self.name}({self._arguments('${index}')})"

    def values(self, params: Mapping[str, Any]) -> list[Any]:
        """`params` in the parameters' order, for `direct`."""
        return [params[p.partition(":")[0]] for p in self.parameters]


@lru_cache(maxsize=64)
def with_writes(call: TextClause, writes: tuple[Insert | Update | Delete, ...]) -> Select[Any]:
    """`call` (a column) with `writes` as common table expressions, and the rows each
    returned: one statement. The writes see the database as the call does, not each
    other's changes."""
    written = [write.cte(f"alongside_{i}") for i, write in enumerate(writes)]
    counts = [select(func.count()).select_from(cte).scalar_subquery() for cte in written]
    return select(call, *counts).add_cte(*written)


async def fetch_value(engine: AsyncEngine, query: str, *arguments: Any) -> Any:
    """The first column of the first row of `query` (positional `$1`… parameters), in
    autocommit on a pooled connection."""
    async with engine.connect() as connection:
        pooled = await connection.get_raw_connection()
        driver = pooled.driver_connection
        assert driver is not None, "a live pooled connection"
        return await driver.fetchval(query, *arguments)
