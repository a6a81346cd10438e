"""Putting an agent's rows by name: what rules and scenarios imports share.

An import names its rows; a name the agent has not is created, a known one is updated
where it differs, and the rest is left alone, so the same file twice changes nothing."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from personae.db.base import Base
from personae.db.shapes import attribute_name
from personae.errors import ValidationFailed
from personae.kernel.principal import Principal
from personae.kernel.resources import Resource

Row = TypeVar("Row", bound=Base)


@dataclass
class Put(Generic[Row]):
    """What an import did: counts, and the rows whose phrasings must be embedded."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    phrased: list[Row] = field(default_factory=list)


async def put_all(
    session: AsyncSession,
    principal: Principal,
    resource: Resource[Row],
    agent_id: uuid.UUID,
    items: Sequence[Mapping[str, Any]],
    *,
    new: Mapping[str, Any],
    phrased: Sequence[str],
    field_name: str,
) -> Put[Row]:
    """Put `items` (each with a `name`) as the agent's rows of `resource`; `new` is what a
    created row is unless told otherwise; a change to one of `phrased` embeds it again."""
    model: Any = resource.model
    where = {"agent_id": agent_id}
    names = [item["name"] for item in items]
    if len(set(names)) != len(names):
        twice = next(n for n in names if names.count(n) > 1)
        raise ValidationFailed(f"the {resource.kind} {twice} is named twice", field=field_name)
    found = await session.execute(
        select(model).where(
            model.agent_id == agent_id, model.name.in_(names), model.deleted_at.is_(None)
        )
    )
    known = {row.name: row for row in found.scalars()}
    put: Put[Row] = Put()
    for values in items:
        row = known.get(values["name"])
        if row is None:
            put.phrased.append(await resource.create(session, principal, {**new, **values}, where))
            put.created += 1
            continue
        changes = {k: v for k, v in values.items() if getattr(row, attribute_name(model, k)) != v}
        if not changes:
            put.unchanged += 1
            continue
        row = await resource.update(session, principal, row.id, changes, where)
        put.updated += 1
        if set(phrased) & changes.keys():
            put.phrased.append(row)
    return put
