"""Which tools a persona and its agents may use, on top of RBAC, and with what policy.

A persona may use the tools granted to it (`persona_tools`, enabled). An agent's
`tool_permissions` (tools' ids or names), when set, replace its persona's grants whole; its
activations (`tool_activations`) then override tool by tool: an enabled activation grants
the tool, a disabled one takes it away. A call made for neither a persona nor an agent
is bound by RBAC alone.

A grant's `config` and an activation's `policy_overrides` hold the same policy keys
(`POLICY`): the agent's override wins over the persona's, which wins over the tool's."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Uuid, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from personae.behavior.models import ToolActivation
from personae.errors import ValidationFailed
from personae.kernel.principal import Principal
from personae.kernel.resources import Action, Resource
from personae.personas.models import Agent, Persona
from personae.personas.service import PERSONAS, require_on_persona
from personae.tools.catalogue import require_tools, tools_named
from personae.tools.functions import check_arguments
from personae.tools.models import PersonaTool, Tool

POLICY: dict[str, Any] = {
    "type": "object",
    "properties": {
        "requires_approval": {"type": "boolean"},
        "timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 600},
        "max_attempts": {"type": "integer", "minimum": 1, "maximum": 10},
    },
    "additionalProperties": False,
}
"""What a grant or an activation may set for its calls."""


@dataclass(frozen=True)
class Permits:
    """The tools one caller (persona, agent) may use; `tool_ids` None: any."""

    tool_ids: frozenset[uuid.UUID] | None = None
    policies: Mapping[uuid.UUID, Mapping[str, Any]] = field(default_factory=dict)
    holder: str = "the caller"
    persona_id: uuid.UUID | None = None

    def allows(self, tool_id: uuid.UUID) -> bool:
        return self.tool_ids is None or tool_id in self.tool_ids

    def policy(self, tool: Tool) -> dict[str, Any]:
        """The tool's policy for this caller: its own settings, then the overrides."""
        own = {k: tool.settings[k] for k in POLICY["properties"] if k in tool.settings}
        return {
            "requires_approval": tool.requires_approval,
            **own,
            **self.policies.get(tool.id, {}),
        }


GRANTS = (
    select(PersonaTool.tool_id, PersonaTool.config)
    .select_from(Persona)
    .outerjoin(PersonaTool, (PersonaTool.persona_id == Persona.id) & PersonaTool.is_enabled)
    .where(Persona.id == bindparam("persona_id"), Persona.deleted_at.is_(None))
)
"""A live persona's enabled grants (a row even with none, so a missing persona shows)."""
GRANTED_TOOL_IDS = select(PersonaTool.tool_id).where(
    PersonaTool.persona_id == bindparam("persona_id", type_=Uuid), PersonaTool.is_enabled
)
"""The tools the enabled grants of `:persona_id` name, as a subquery of another statement
(for a persona its caller has found live: `permits` reads the same grants with `GRANTS`)."""


async def permits(
    session: AsyncSession, persona_id: uuid.UUID | None, agent_id: uuid.UUID | None
) -> Permits:
    """What the persona and / or agent may use (an agent's persona unless one is named)."""
    agent = None
    if agent_id is not None:
        agent = await _agent(session, agent_id)
        if persona_id is not None and agent.persona_id not in (None, persona_id):
            raise ValidationFailed("the agent belongs to another persona", field="agent_id")
        persona_id = persona_id or agent.persona_id
    if persona_id is None and agent_id is None:
        return Permits()
    allowed: set[uuid.UUID] = set()
    policies: dict[uuid.UUID, dict[str, Any]] = {}
    if persona_id is not None:
        grants = (await session.execute(GRANTS, {"persona_id": persona_id})).all()
        if not grants:
            raise ValidationFailed("no such persona", field="persona_id")
        for tool_id, config in grants:
            if tool_id is not None:
                allowed.add(tool_id)
                policies[tool_id] = dict(config or {})
    if agent is not None:
        activations = list(
            (
                await session.execute(
                    select(ToolActivation).where(ToolActivation.agent_id == agent.id)
                )
            ).scalars()
        )
        # the tools its permissions and its activations name, found together
        listed = agent.tool_permissions or []
        named = await tools_named(session, [*listed, *(a.tool_id for a in activations)])
        if agent.tool_permissions is not None:
            allowed = {tool_id for name in listed for tool_id in named[name]}
        for activation in activations:
            for tool_id in named[activation.tool_id]:
                if activation.enabled:
                    allowed.add(tool_id)
                    policies[tool_id] = {**policies.get(tool_id, {}), **activation.policy_overrides}
                else:
                    allowed.discard(tool_id)
    holder = f"agent {agent_id}" if agent_id is not None else f"persona {persona_id}"
    return Permits(frozenset(allowed), policies, holder, persona_id)


async def _agent(session: AsyncSession, agent_id: uuid.UUID) -> Agent:
    found = await session.execute(
        select(Agent).where(Agent.id == agent_id, Agent.deleted_at.is_(None))
    )
    agent = found.scalar_one_or_none()
    if agent is None:
        raise ValidationFailed("no such agent", field="agent_id")
    return agent


def check_policy(policy: Mapping[str, Any] | None, field_name: str) -> None:
    if policy is not None:
        check_arguments(POLICY, policy, field_name)


class _PersonaTools(Resource[PersonaTool]):
    """The tools granted to one persona (the path names it): managed by whoever may
    change the persona."""

    async def authorize(
        self,
        session: AsyncSession,
        principal: Principal,
        action: Action,
        row: PersonaTool | None,
        where: Mapping[str, Any],
    ) -> None:
        persona_id = row.persona_id if row is not None else where["persona_id"]
        persona = await PERSONAS.get(session, principal, persona_id)
        await require_on_persona(
            session, principal, persona, "read" if action == "read" else "update"
        )

    async def check(
        self, session: AsyncSession, principal: Principal, values: Mapping[str, Any]
    ) -> None:
        check_policy(values.get("config"), "config")


class _ToolActivations(Resource[ToolActivation]):
    """One agent's activations (the path names it); `tool_id` is a tool's id or name."""

    async def check(
        self, session: AsyncSession, principal: Principal, values: Mapping[str, Any]
    ) -> None:
        if "tool_id" in values:
            await require_tools(session, principal.tenant_id, {"tool_id": values["tool_id"]})
        check_policy(values.get("policy_overrides"), "policy_overrides")


PERSONA_TOOLS = _PersonaTools(
    PersonaTool,
    "persona_tool",
    "personas",
    unique=("persona_id", "tool_id"),
    references={"tool_id": Tool},
)
TOOL_ACTIVATIONS = _ToolActivations(
    ToolActivation,
    "tool_activation",
    "agents",
    unique=("agent_id", "tool_id"),
    actions={"create": "update", "delete": "update"},
)
