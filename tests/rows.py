"""Valid rows for every table, built from the model metadata alone.

`RowFactory.seed(conn, tenant)` inserts two rows into every tenant-owned table for a
tenant (foreign keys pointing at that tenant's own rows) and returns them, so tests can
sweep all tables without a hand-written fixture per table. Global rows are made once."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Double,
    Float,
    Integer,
    LargeBinary,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
    insert,
)
from sqlalchemy.dialects.postgresql import INET, JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncConnection

from personae.db.base import GLOBAL_TABLES
from personae.db.types import EMBEDDING_DIMS, uuid7
from personae.schema import metadata

ROWS_PER_TABLE = 2
ENUM_CHECK = re.compile(r"^(\w+) IN \((.*)\)$")

# Columns a CHECK constraint ties to others; the value here keeps the row valid.
OVERRIDES: dict[str, dict[str, Any]] = {
    "migration_plans": {"from_version": 1, "to_version": 2},
    "session_events": {"event_type": "note"},
    "collection_items": {"embedding_id": "fk", "document_id": None},
    "entity_mentions": {"episode_id": "fk"},
    "access_controls": {"object_id": "fk"},
}


def enum_values(table: Table) -> dict[str, str]:
    """The first allowed value of every `one_of` CHECK constraint of a table."""
    values = {}
    for constraint in table.constraints:
        if isinstance(constraint, CheckConstraint):
            match = ENUM_CHECK.match(str(constraint.sqltext))
            if match:
                values[match.group(1)] = match.group(2).split(",")[0].strip().strip("'")
    return values


def needs_value(column: Column[Any]) -> bool:
    return not (
        column.nullable
        or column.server_default is not None
        or column.computed is not None
        or column.identity is not None
    )


def scalar(column: Column[Any], n: int) -> Any:
    kind = column.type
    if isinstance(kind, Vector):
        return [0.1 * (n + 1)] * EMBEDDING_DIMS
    if isinstance(kind, UUID):
        return uuid7()
    if isinstance(kind, INET):
        return "127.0.0.1"
    if isinstance(kind, JSONB):
        return {}
    if isinstance(kind, ARRAY):
        return []
    if isinstance(kind, Boolean):
        return True
    if isinstance(kind, DateTime):
        return datetime.now(UTC)
    if isinstance(kind, (Integer, BigInteger, SmallInteger)):
        return n + 1
    if isinstance(kind, (Float, Double)):
        return 0.5
    if isinstance(kind, Numeric):
        return Decimal(1)
    if isinstance(kind, LargeBinary):
        return b"\x00bytes"
    if isinstance(kind, (String, Text)):
        value = f"{column.name}-{n}"
        length = getattr(kind, "length", None)
        return value[-length:] if length else value  # keep the distinguishing suffix
    raise TypeError(f"no sample value for {column.table.name}.{column.name}: {kind!r}")


class RowFactory:
    def __init__(self) -> None:
        self.global_rows: dict[str, list[dict[str, Any]]] = {}

    def tenant_tables(self) -> list[Table]:
        return [t for t in metadata.sorted_tables if t.name not in GLOBAL_TABLES]

    def row(
        self, table: Table, n: int, made: dict[str, list[dict[str, Any]]], tenant: uuid.UUID | None
    ) -> dict[str, Any]:
        enums = enum_values(table)
        overrides = OVERRIDES.get(table.name, {})
        fk_for: dict[str, tuple[str, str]] = {}
        fk_rank: dict[str, int] = {}
        seen: dict[str, int] = {}
        for fk in sorted(table.foreign_key_constraints, key=lambda c: tuple(c.column_keys)):
            target = fk.referred_table.name
            for local, element in zip(fk.column_keys, fk.elements, strict=True):
                if local != "tenant_id":
                    fk_for[local] = (target, element.column.name)
                    fk_rank[local] = seen.get(target, 0)
                    seen[target] = seen.get(target, 0) + 1
        values: dict[str, Any] = {}
        for column in table.columns:
            name = column.name
            if name == "tenant_id":
                values[name] = tenant
                continue
            wanted = overrides.get(name, "fk" if needs_value(column) else None)
            if name in overrides and overrides[name] not in ("fk",):
                values[name] = overrides[name]
                continue
            if wanted is None:
                continue
            if name in fk_for:
                target, key = fk_for[name]
                pool = made.get(target) or self.global_rows.get(target)
                if target == table.name or not pool:
                    continue  # self reference: leave NULL
                values[name] = pool[(n + fk_rank[name]) % len(pool)][key]
            elif name in enums:
                values[name] = enums[name]
            else:
                values[name] = scalar(column, n)
        return values

    async def insert(
        self, conn: AsyncConnection, table: Table, values: dict[str, Any]
    ) -> dict[str, Any]:
        pk = [c.name for c in table.primary_key.columns]
        result = await conn.execute(
            insert(table).values(**values).returning(*table.primary_key.columns)
        )
        return {**values, **dict(zip(pk, result.one(), strict=True))}

    async def seed_globals(self, conn: AsyncConnection) -> None:
        for table in metadata.sorted_tables:
            if table.name in GLOBAL_TABLES and table.name != "tenants":
                self.global_rows[table.name] = [
                    await self.insert(conn, table, self.row(table, n, self.global_rows, None))
                    for n in range(ROWS_PER_TABLE)
                ]

    async def tenant(self, conn: AsyncConnection, name: str) -> uuid.UUID:
        tenants = metadata.tables["tenants"]
        row = await self.insert(
            conn, tenants, {"name": name, "slug": f"{name}-{uuid.uuid4().hex[:8]}"}
        )
        return uuid.UUID(str(row["id"]))

    async def seed(
        self, conn: AsyncConnection, tenant: uuid.UUID
    ) -> dict[str, list[dict[str, Any]]]:
        """Two rows in every tenant-owned table, all belonging to `tenant`."""
        made: dict[str, list[dict[str, Any]]] = {}
        for table in self.tenant_tables():
            made[table.name] = [
                await self.insert(conn, table, self.row(table, n, made, tenant))
                for n in range(ROWS_PER_TABLE)
            ]
        return made
