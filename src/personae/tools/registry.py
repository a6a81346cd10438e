"""The tools a tenant has, and what they depend on.

A tenant's own tools are `python` or `http` (their schemas checked when written); the
built-ins come from the plugins, and each tenant holds a row for each (`catalogue`); a
capsule's tools come with the capsule. Those two kinds may be enabled, disabled or made to
require approval, but not otherwise changed. Changing a
description drops its embedding (the next search embeds it again)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from personae.db import locks
from personae.errors import Conflict, ValidationFailed
from personae.kernel.audit.service import record
from personae.kernel.principal import Principal
from personae.kernel.resources import Action, Page, Resource
from personae.tools.catalogue import ensure_builtins
from personae.tools.dependencies import KINDS, find_cycle, graph, plan
from personae.tools.functions import NAME, check_schema
from personae.tools.http_calls import check_endpoint
from personae.tools.models import Tool, ToolDependency
from personae.tools.plugins import registered_tools
from personae.tools.python_code import ENTRY, check_code

RUNNABLE = ("python", "http")
"""Code types a tenant may register (built-ins come from plugins)."""
MANAGED_CHANGES = frozenset({"enabled", "requires_approval"})
"""What a tenant may change of a tool its code or a capsule manages."""


class _Tools(Resource[Tool]):
    async def check(
        self, session: AsyncSession, principal: Principal, values: Mapping[str, Any]
    ) -> None:
        if "name" in values and not NAME.fullmatch(values["name"]):
            raise ValidationFailed("letters, digits, _ and -, up to 64", field="name")
        if "name" in values and values["name"] in registered_tools():
            raise Conflict(f"{values['name']!r} is a built-in tool")
        if "code_type" in values and values["code_type"] not in RUNNABLE:
            raise ValidationFailed(f"one of {', '.join(RUNNABLE)}", field="code_type")
        if "schema" in values:
            check_schema(values["schema"])
        if values.get("code_type") == "python" and not values.get("code"):
            raise ValidationFailed("a python tool needs its code", field="code")
        if values.get("code"):  # only python tools run code
            entry = (values.get("settings") or {}).get("entry", ENTRY)
            check_code(values["code"], str(entry))
        if values.get("code_type") == "http" or values.get("endpoint") is not None:
            check_endpoint(values.get("endpoint"))

    async def authorize(
        self,
        session: AsyncSession,
        principal: Principal,
        action: Action,
        row: Tool | None,
        where: Mapping[str, Any],
    ) -> None:
        await super().authorize(session, principal, action, row, where)
        if action == "delete" and row is not None and _managed(row):
            raise Conflict(f"{row.name} is {_managed(row)}: disable it instead")

    async def page(
        self,
        session: AsyncSession,
        principal: Principal,
        *,
        after: uuid.UUID | None = None,
        limit: int = 50,
        where: Mapping[str, Any] | None = None,
    ) -> Page[Tool]:
        await ensure_builtins(session, principal.tenant_id)
        return await super().page(session, principal, after=after, limit=limit, where=where)

    async def changing(
        self, session: AsyncSession, principal: Principal, row: Tool, changes: Mapping[str, Any]
    ) -> None:
        if _managed(row) and changes.keys() - MANAGED_CHANGES:
            raise Conflict(
                f"{row.name} is {_managed(row)}: only enabled and requires_approval change"
            )
        if "description" in changes:
            row.description_embedding = None  # the next search embeds it again


def _managed(tool: Tool) -> str | None:
    """What manages the tool, if not the tenant: "a built-in tool" or "a capsule's tool"."""
    if tool.is_builtin:
        return "a built-in tool"
    return "a capsule's tool" if tool.capsule_id is not None else None


TOOLS = _Tools(Tool, "tool", "tools", unique=("name",))


@dataclass(frozen=True)
class BuiltinTool:
    name: str
    description: str
    schema: dict[str, Any]
    code_type: str = "builtin"
    is_builtin: bool = True


def builtins() -> list[BuiltinTool]:
    return [BuiltinTool(t.name, t.description, t.parameters) for t in registered_tools().values()]


@dataclass(frozen=True)
class Dependency:
    tool_id: uuid.UUID
    kind: str = "requires"


@dataclass(frozen=True)
class Planned:
    id: uuid.UUID
    name: str
    enabled: bool


async def set_dependencies(
    session: AsyncSession,
    principal: Principal,
    tool_id: uuid.UUID,
    dependencies: Sequence[Dependency],
) -> None:
    """Replace what the tool depends on; a set that would close a cycle is refused (422,
    naming the tools around it), under a lock so two writers cannot close one together."""
    tool = await TOOLS.get(session, principal, tool_id, action="update")
    await locks.hold(session, f"tool_dependencies:{principal.tenant_id}")
    wanted = {d.tool_id: d.kind for d in dependencies}
    for index, target in enumerate(wanted):
        if target == tool_id:
            raise ValidationFailed("a tool cannot depend on itself", field=f"dependencies.{index}")
        await TOOLS.get(session, principal, target)
    edges = await session.execute(
        select(ToolDependency.tool_id, ToolDependency.depends_on_tool_id).where(
            ToolDependency.tool_id != tool_id
        )
    )
    adjacent = graph([*((a, b) for a, b in edges), *((tool_id, target) for target in wanted)])
    cycle = find_cycle(adjacent)
    if cycle is not None:
        names = await _names(session, cycle)
        raise ValidationFailed(
            "that would close a cycle: " + " -> ".join(names[c] for c in cycle),
            field="dependencies",
        )
    await session.execute(delete(ToolDependency).where(ToolDependency.tool_id == tool_id))
    session.add_all(
        ToolDependency(
            tenant_id=principal.tenant_id,
            tool_id=tool_id,
            depends_on_tool_id=target,
            dependency_type=kind,
        )
        for target, kind in wanted.items()
    )
    await session.flush()
    await record(
        session,
        principal,
        "update",
        "tool",
        tool.id,
        data={"dependencies": {kind: sum(k == kind for k in wanted.values()) for kind in KINDS}},
    )


async def execution_plan(
    session: AsyncSession, principal: Principal, tool_id: uuid.UUID
) -> list[Planned]:
    """What the tool requires, transitively, each after its own requirements; the tool
    last. `enabled` shows what must be enabled before it can run."""
    await TOOLS.get(session, principal, tool_id)
    return await _plan_of(session, tool_id)


async def requirements_disabled(session: AsyncSession, tool_id: uuid.UUID) -> list[str]:
    """The names of what the tool requires (transitively, itself included) that is disabled."""
    return [p.name for p in await _plan_of(session, tool_id) if not p.enabled]


async def _plan_of(session: AsyncSession, tool_id: uuid.UUID) -> list[Planned]:
    edges = await session.execute(
        select(ToolDependency.tool_id, ToolDependency.depends_on_tool_id).where(
            ToolDependency.dependency_type == "requires"
        )
    )
    order = plan(graph((a, b) for a, b in edges), tool_id)
    rows = await session.execute(
        select(Tool.id, Tool.name, Tool.enabled).where(
            Tool.id.in_(order), Tool.deleted_at.is_(None)
        )
    )
    found = {row.id: Planned(row.id, row.name, row.enabled) for row in rows}
    return [found[node] for node in order if node in found]


async def _names(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    rows = await session.execute(select(Tool.id, Tool.name).where(Tool.id.in_(ids)))
    return {row.id: row.name for row in rows}
