"""Agents: a persona put to work with a model, tools and (later) rules. They go by
`agents:*`, whether they belong to a persona or not."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from personae.kernel.principal import Principal
from personae.kernel.resources import Resource
from personae.personas.models import Agent, Persona
from personae.tools.catalogue import require_tools


class _Agents(Resource[Agent]):
    """Agents; the tools their `tool_permissions` name must exist (by id or name)."""

    async def check(
        self, session: AsyncSession, principal: Principal, values: Mapping[str, Any]
    ) -> None:
        named = values.get("tool_permissions")
        if named:
            fields = {f"tool_permissions.{i}": name for i, name in enumerate(named)}
            await require_tools(session, principal.tenant_id, fields)


AGENTS = _Agents(Agent, "agent", "agents", unique=("name",), references={"persona_id": Persona})
