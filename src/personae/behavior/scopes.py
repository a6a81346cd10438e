"""Where a rule or a template applies: everywhere (GLOBAL), in a scenario, or in one step
of a scenario."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from personae.behavior.models import Scenario
from personae.errors import ValidationFailed

SCOPED = ("scope", "scope_id", "scope_step")


async def check_scope(session: AsyncSession, values: Mapping[str, Any]) -> None:
    """422 naming the field unless `scope`, `scope_id` and `scope_step` agree (a GLOBAL
    one names no scenario, a SCENARIO one a live scenario, a STEP one also its step)."""
    scope = values.get("scope")
    if scope is None:
        return
    if scope == "GLOBAL":
        if values.get("scope_id") is not None or values.get("scope_step") is not None:
            raise ValidationFailed("a GLOBAL one has no scope_id", field="scope_id")
        return
    scenario = values.get("scope_id")
    if scenario is None:
        raise ValidationFailed(f"a {scope} one names its scenario", field="scope_id")
    found = await session.execute(
        select(Scenario.id).where(Scenario.id == scenario, Scenario.deleted_at.is_(None))
    )
    if found.scalar_one_or_none() is None:
        raise ValidationFailed("no such scenario", field="scope_id")
    if (scope == "STEP") != (values.get("scope_step") is not None):
        raise ValidationFailed(
            "a STEP one names its step, and only a STEP one does", field="scope_step"
        )


def merged_scope(row: Any, changes: Mapping[str, Any]) -> dict[str, Any] | None:
    """The row's scope as `changes` leave it, when they touch it."""
    if not set(SCOPED) & changes.keys():
        return None
    return {name: changes.get(name, getattr(row, name)) for name in SCOPED}
