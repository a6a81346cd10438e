"""Tenant rows managed through the API: create, page, read, update and delete.

Each step checks the caller's permission (`<permission>:<action>`), stays inside the
caller's tenant (row-level security does the filtering), refuses a duplicate of a live row
with 409, and writes one audit event per change in the same transaction. Areas with extra
rules (persona sharing, say) subclass `Resource` and override `authorize` / `visible`."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, Literal, TypeVar

from sqlalchemy import ColumnElement, Select, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from personae.db.base import Base, SoftDelete
from personae.db.shapes import attribute_name
from personae.errors import Conflict, NotFound, ValidationFailed
from personae.kernel.audit.service import record
from personae.kernel.principal import Principal

Row = TypeVar("Row", bound=Base)
Action = Literal["read", "create", "update", "delete"]
MAX_PAGE = 500


@dataclass(frozen=True)
class Page(Generic[Row]):
    items: list[Row]
    next_cursor: uuid.UUID | None


@dataclass(frozen=True)
class Resource(Generic[Row]):
    model: type[Row]
    kind: str
    """Singular noun: the audit resource type and the word in error messages."""
    permission: str
    """The catalogue resource: actions need `<permission>:<action>`."""
    unique: tuple[str, ...] = ()
    """API fields that together may not repeat among live rows (within `parents`)."""
    actions: Mapping[str, str] = field(default_factory=dict)
    """Permission action per step, where it differs (e.g. {"create": "update"})."""
    references: Mapping[str, type[Base]] = field(default_factory=dict)
    """API fields naming a row of another table of the tenant: it must exist (422)."""

    # -- policy, for subclasses ------------------------------------------------------

    async def authorize(
        self,
        session: AsyncSession,
        principal: Principal,
        action: Action,
        row: Row | None,
        where: Mapping[str, Any],
    ) -> None:
        """Refuse `action` unless the caller may (403); `row` is None for create and list,
        `where` holds the parent ids the path fixed."""
        principal.require(f"{self.permission}:{self.actions.get(action, action)}")

    async def check(
        self, session: AsyncSession, principal: Principal, values: Mapping[str, Any]
    ) -> None:
        """Refuse values that break a rule of this resource (422), before writing."""

    async def changing(
        self, session: AsyncSession, principal: Principal, row: Row, changes: Mapping[str, Any]
    ) -> None:
        """Refuse a change to `row` that breaks a rule needing the row itself (409 / 422),
        or prepare it (clear what the change makes stale); before `check`."""

    def visible(self, principal: Principal) -> ColumnElement[bool]:
        """Rows the caller may see at all (beyond the tenant, which RLS enforces)."""
        return true()

    # -- steps -------------------------------------------------------------------------

    async def create(
        self,
        session: AsyncSession,
        principal: Principal,
        values: Mapping[str, Any],
        where: Mapping[str, Any] | None = None,
    ) -> Row:
        where = where or {}
        await self.authorize(session, principal, "create", None, where)
        values = {**values, **where}
        await self.check(session, principal, values)
        await self.check_references(session, values)
        await self._refuse_duplicate(session, values, None)
        row = self.model(tenant_id=principal.tenant_id, **self._attributes(values))
        session.add(row)
        await session.flush()
        await session.refresh(row)
        await record(session, principal, "create", self.kind, self._id(row), data=_summary(row))
        return row

    async def page(
        self,
        session: AsyncSession,
        principal: Principal,
        *,
        after: uuid.UUID | None = None,
        limit: int = 50,
        where: Mapping[str, Any] | None = None,
    ) -> Page[Row]:
        """Oldest first, `limit` at a time; `next_cursor` continues after the last one."""
        where = where or {}
        await self.authorize(session, principal, "read", None, where)
        limit = max(1, min(limit, MAX_PAGE))
        query = self._live(where).where(self.visible(principal))
        if after is not None:
            query = query.where(self._column("id") > after)
        rows = list(
            (await session.execute(query.order_by(self._column("id")).limit(limit + 1))).scalars()
        )
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(rows, self._id(rows[-1]) if more else None)

    async def get(
        self,
        session: AsyncSession,
        principal: Principal,
        row_id: uuid.UUID,
        where: Mapping[str, Any] | None = None,
        *,
        action: Action = "read",
    ) -> Row:
        """One live row, or 404 whether it is missing, deleted, hidden or another tenant's."""
        where = where or {}
        query = self._live(where).where(self._column("id") == row_id, self.visible(principal))
        if action == "update" or action == "delete":
            query = query.with_for_update()
        row = (await session.execute(query)).scalar_one_or_none()
        if row is None:
            raise NotFound(f"no such {self.kind.replace('_', ' ')}")
        await self.authorize(session, principal, action, row, where)
        return row

    async def read(
        self,
        session: AsyncSession,
        principal: Principal,
        row_id: uuid.UUID,
        where: Mapping[str, Any] | None = None,
    ) -> Any:
        """What GET shows of one row: `get`, unless a cache answers (a row or a mapping)."""
        return await self.get(session, principal, row_id, where)

    async def update(
        self,
        session: AsyncSession,
        principal: Principal,
        row_id: uuid.UUID,
        changes: Mapping[str, Any],
        where: Mapping[str, Any] | None = None,
    ) -> Row:
        row = await self.get(session, principal, row_id, where, action="update")
        if changes:
            await self.changing(session, principal, row, changes)
            await self.check(session, principal, changes)
            await self.check_references(session, changes)
            await self._refuse_duplicate(session, {**self._values(row), **changes}, row_id)
            for name, value in self._attributes(changes).items():
                setattr(row, name, value)
            await session.flush()
            await session.refresh(row)
        await record(
            session, principal, "update", self.kind, row_id, data={"fields": sorted(changes)}
        )
        return row

    async def delete(
        self,
        session: AsyncSession,
        principal: Principal,
        row_id: uuid.UUID,
        where: Mapping[str, Any] | None = None,
        *,
        noted: Mapping[str, Any] | None = None,
    ) -> None:
        """Soft-delete where the table keeps deleted rows, else delete. `noted`: what else
        the deletion took (an orchestration's counts), for its one audit event."""
        row = await self.get(session, principal, row_id, where, action="delete")
        if isinstance(row, SoftDelete):
            row.deleted_at = datetime.now(UTC)
        else:
            await session.delete(row)
        await session.flush()
        data = {**_summary(row), **(noted or {})}
        await record(session, principal, "delete", self.kind, row_id, data=data)

    # -- helpers -----------------------------------------------------------------------

    @property
    def _soft(self) -> bool:
        return "deleted_at" in self.model.__table__.c

    def _column(self, name: str) -> Any:
        return getattr(self.model, attribute_name(self.model, name))

    def _attributes(self, values: Mapping[str, Any]) -> dict[str, Any]:
        return {attribute_name(self.model, k): v for k, v in values.items()}

    def _values(self, row: Row) -> dict[str, Any]:
        return {name: getattr(row, attribute_name(self.model, name)) for name in self.unique}

    def _id(self, row: Row) -> uuid.UUID:
        row_id: uuid.UUID = getattr(row, "id")  # noqa: B009 - every resource has an id
        return row_id

    def _live(self, where: Mapping[str, Any]) -> Select[Row]:
        query = select(self.model).where(
            *(self._column(name) == value for name, value in where.items())
        )
        return query.where(self._column("deleted_at").is_(None)) if self._soft else query

    async def check_references(self, session: AsyncSession, values: Mapping[str, Any]) -> None:
        for name, model in self.references.items():
            given = values.get(name)
            if given is not None and given not in await live_ids(session, model, {given}):
                raise ValidationFailed(f"no such {name.removesuffix('_id')}", field=name)

    async def _refuse_duplicate(
        self, session: AsyncSession, values: Mapping[str, Any], row_id: uuid.UUID | None
    ) -> None:
        if not self.unique or not all(name in values for name in self.unique):
            return
        query = self._live({name: values[name] for name in self.unique})
        if row_id is not None:
            query = query.where(self._column("id") != row_id)
        taken = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar()
        if taken:
            shown = ", ".join(f"{name}={values[name]!r}" for name in self.unique)
            raise Conflict(f"a {self.kind.replace('_', ' ')} with {shown} exists")


def _summary(row: Base) -> dict[str, Any]:
    """What the audit trail keeps of a row: its name, if it has one; never its contents."""
    name = getattr(row, "name", None)
    return {"name": name} if isinstance(name, str) else {}


async def live_ids(session: AsyncSession, model: Any, ids: Collection[Any]) -> set[Any]:
    """Which of `ids` name live rows of `model` (not soft-deleted): one query."""
    table = model.__table__
    query = select(table.c.id).where(table.c.id.in_(ids))
    if "deleted_at" in table.c:
        query = query.where(table.c.deleted_at.is_(None))
    return set((await session.execute(query)).scalars())
