"""What a rule does when it applies (its `action_config`), checked when it is written.

- `instructions`: added to the prompt (a template: it may read the session's variables);
- `tools`: tools offered to the model for the turn (by name; those the agent may use);
- `template`: a template of the agent the rule applies (its mode says how);
- `variables`: values set on the session (by each variable's update policy)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as ShapeError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from personae.behavior import templates, variables
from personae.behavior.models import Template
from personae.errors import ValidationFailed

FIELD = "action_config"
ToolName = Annotated[str, Field(min_length=1, max_length=255)]


class RuleAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    instructions: str | None = Field(None, max_length=4000)
    tools: list[ToolName] = Field(default_factory=list, max_length=20)
    template: str | None = Field(None, min_length=1, max_length=255)
    variables: dict[str, Any] = Field(default_factory=dict, max_length=50)

    @classmethod
    def of(cls, config: Mapping[str, Any]) -> RuleAction:
        """The action `config` says (422 naming the field at fault)."""
        try:
            return cls.model_validate(config)
        except ShapeError as wrong:
            first = wrong.errors()[0]
            where = ".".join(str(part) for part in (FIELD, *first["loc"]))
            raise ValidationFailed(first["msg"], field=where) from None


def attached_tools(values: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """The tools a rule's values attach, by the field naming each (for the caller to check
    that the tenant has them: tools are an area above this one)."""
    named = (values.get("action_config") or {}).get("tools")
    if not isinstance(named, list):
        return {}
    return {f"{prefix}{FIELD}.tools.{i}": str(name) for i, name in enumerate(named)}


async def check_action(
    session: AsyncSession, agent_id: uuid.UUID, config: Mapping[str, Any]
) -> RuleAction:
    """The rule's action, its template and variables the agent's own (422 naming the
    field)."""
    action = RuleAction.of(config)
    if action.instructions:
        try:
            await templates.check_names(session, agent_id, action.instructions)
        except ValidationFailed as wrong:
            raise ValidationFailed(wrong.detail, field=f"{FIELD}.instructions") from None
    if action.template is not None:
        found = await session.execute(
            select(Template.id).where(
                Template.agent_id == agent_id,
                Template.name == action.template,
                Template.deleted_at.is_(None),
            )
        )
        if found.scalar_one_or_none() is None:
            raise ValidationFailed("the agent has no such template", field=f"{FIELD}.template")
    if action.variables:
        known = await variables.defined(session, agent_id)
        for name, value in action.variables.items():
            where = f"{FIELD}.variables.{name}"
            if name not in known:
                raise ValidationFailed("the agent has no such variable", field=where)
            variables.updated(known[name].update_policy, None, value, field=where)
    return action
