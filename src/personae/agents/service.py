"""Agents: a persona put to work with a model, tools and rules. They go by `agents:*`,
whether they belong to a persona or not. Their `configuration` says how their rules are
kept (`rules`), when their scenarios' conditions hold (`scenarios`) and what their answers
must pass (`guards`), checked when written."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from personae.behavior.guards import Guards
from personae.behavior.matching import Selection
from personae.behavior.steering import Thresholds
from personae.kernel.principal import Principal
from personae.kernel.resources import Resource
from personae.personas.models import Agent, Persona
from personae.tools.catalogue import require_tools


class _Agents(Resource[Agent]):
    """Agents; the tools their `tool_permissions` name must exist (by id or name)."""

    async def check(
        self, session: AsyncSession, principal: Principal, values: Mapping[str, Any]
    ) -> None:
        if values.get("configuration") is not None:
            Selection.of(values["configuration"])
            Guards.of(values["configuration"])
            Thresholds.of(values["configuration"])
        named = values.get("tool_permissions")
        if named:
            fields = {f"tool_permissions.{i}": name for i, name in enumerate(named)}
            await require_tools(session, principal.tenant_id, fields)


AGENTS = _Agents(Agent, "agent", "agents", unique=("name",), references={"persona_id": Persona})
