"""The tools a tenant has: its own (`python`, `http`; their schemas checked when written)
and the built-ins every tenant shares (from the plugins, never stored per tenant).

Executing a tool checks its arguments against its schema (422 naming the argument), runs
it with a time limit, and records the call: a `tool_executions` row with its outcome and
duration, and audit events when it starts and when it ends. A tool that fails is a failed
execution, not a failed request. Built-ins run in-process, in a savepoint, as the caller;
`python` and `http` tools wait for the sandbox (501 until then)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from personae.audit.service import record
from personae.db import locks
from personae.errors import Conflict, Forbidden, NotFound, PersonaeError, ValidationFailed
from personae.identity.principal import Principal
from personae.resources import Resource
from personae.settings_store.flags import enabled
from personae.tools.dependencies import KINDS, find_cycle, graph, plan
from personae.tools.functions import (
    NAME,
    FunctionTool,
    ToolContext,
    check_arguments,
    check_schema,
)
from personae.tools.models import Tool, ToolDependency, ToolExecution
from personae.tools.plugins import registered_tools
from personae.tools.sandbox import Limits, run_python

RUNNABLE = ("python", "http")
"""Code types a tenant may register (built-ins come from plugins)."""


class NotExecutableYet(PersonaeError):
    status = 501
    title = "Not implemented"


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


async def execute(
    session: AsyncSession,
    principal: Principal,
    name: str,
    arguments: Mapping[str, Any],
    *,
    services: Mapping[str, Any],
    timeout_s: float,
    limits: Limits,
    session_id: uuid.UUID | None = None,
    trace_id: str | None = None,
) -> ToolExecution:
    """Run the tool `name` with `arguments` as `principal`; its recorded execution.
    Built-ins get `timeout_s`; `python` tools the sandbox's `limits`."""
    principal.require("tools:execute")
    builtin = registered_tools().get(name)
    tool = None
    if builtin is not None:
        check_arguments(builtin.parameters, arguments)
    else:
        tool = await _tenant_tool(session, name)
        if tool.code_type != "python":
            raise NotExecutableYet(f"{tool.code_type} tools cannot run yet (only python)")
        waiting = [p.name for p in await _plan_of(session, tool.id) if not p.enabled]
        if waiting:
            raise Conflict(f"{name} requires {', '.join(waiting)}, disabled: enable it first")
        check_arguments(tool.schema, arguments)
    execution = ToolExecution(
        tenant_id=principal.tenant_id,
        tool_id=None if tool is None else tool.id,
        tool_name=name,
        session_id=session_id,
        trace_id=trace_id,
        arguments=dict(arguments),
        status="running",
        started_at=datetime.now(UTC),
    )
    session.add(execution)
    await session.flush()
    await record(session, principal, "start", "tool_execution", execution.id, data={"tool": name})
    started = time.perf_counter()
    if builtin is not None:
        await _run(session, principal, builtin, arguments, services, timeout_s, execution)
    else:
        assert tool is not None
        await _sandboxed(session, tool, arguments, limits, execution)
    execution.duration_ms = round((time.perf_counter() - started) * 1000)
    execution.completed_at = datetime.now(UTC)
    await session.flush()
    await record(
        session,
        principal,
        "finish",
        "tool_execution",
        execution.id,
        data={"tool": name, "status": execution.status, "duration_ms": execution.duration_ms},
        result="success" if execution.status == "succeeded" else "failure",
    )
    return execution


async def _sandboxed(
    session: AsyncSession,
    tool: Tool,
    arguments: Mapping[str, Any],
    limits: Limits,
    execution: ToolExecution,
) -> None:
    """Run a python tool in the sandbox; the network only if both the tool's settings
    and the tenant's `tool_sandbox_network` flag allow it."""
    network = bool(tool.settings.get("network")) and await enabled(
        session, tool.tenant_id, "tool_sandbox_network"
    )
    entry = str(tool.settings.get("entry", "main"))
    outcome = await run_python(tool.code or "", entry, dict(arguments), limits, network=network)
    execution.status, execution.error = outcome.status, outcome.error
    if outcome.status == "succeeded":
        execution.result = {"value": outcome.value, "logs": outcome.logs}


async def _run(
    session: AsyncSession,
    principal: Principal,
    tool: FunctionTool,
    arguments: Mapping[str, Any],
    services: Mapping[str, Any],
    timeout_s: float,
    execution: ToolExecution,
) -> None:
    """Call the tool in a savepoint (what it wrote goes if it fails); set the outcome."""
    context = ToolContext(session, principal, services)
    try:
        async with session.begin_nested():
            value = await asyncio.wait_for(tool.call(arguments, context), timeout_s)
            result = {"value": to_jsonable_python(value)}
    except TimeoutError:
        execution.status, execution.error = "timed_out", f"no answer within {timeout_s:g} s"
    except ValidationFailed:
        raise  # the arguments were wrong after all: the caller's error, not the tool's
    except Forbidden as denied:
        execution.status, execution.error = "denied", denied.detail
    except PersonaeError as failed:
        execution.status, execution.error = "failed", failed.detail
    except Exception as crashed:
        execution.status, execution.error = "failed", f"{type(crashed).__name__}: {crashed}"
    else:
        execution.status, execution.result = "succeeded", result


async def _tenant_tool(session: AsyncSession, name: str) -> Tool:
    found = await session.execute(
        select(Tool).where(Tool.name == name, Tool.deleted_at.is_(None)).limit(1)
    )
    tool = found.scalar_one_or_none()
    if tool is None:
        raise NotFound(f"no tool named {name!r}")
    if not tool.enabled:
        raise Conflict(f"{name} is disabled")
    return tool


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
