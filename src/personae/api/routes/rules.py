"""An agent's rules: CRUD (embedded when written), and import / export by name."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter

from personae.agents.service import AGENTS
from personae.api.deps import RequestContext, authorized
from personae.api.resource_routes import Parent, list_of, mount
from personae.api.services import Shared
from personae.behavior import rules, schemas
from personae.behavior.actions import attached_tools
from personae.tools.catalogue import require_tools

router = APIRouter(prefix="/v1", tags=["rules"])
RULES_PATH = "/agents/{agent_id}/rules"


@router.post(RULES_PATH, status_code=201, response_model=schemas.RuleOut)
async def create_rule(
    agent_id: uuid.UUID,
    body: schemas.RuleCreate,
    shared: Shared,
    context: Annotated[RequestContext, authorized()],
) -> schemas.RuleOut:
    """A rule of the agent; its condition and examples are embedded now."""
    await AGENTS.get(context.session, context.principal, agent_id)
    values = body.model_dump(exclude_unset=True)
    await _tools_exist(context, values)
    rule = await rules.create(
        context.session, context.principal, shared.embedders, agent_id, values
    )
    shown = schemas.RuleOut.model_validate(rule)
    await context.commit()
    return shown


@router.patch(RULES_PATH + "/{rule_id}", response_model=schemas.RuleOut)
async def update_rule(
    agent_id: uuid.UUID,
    rule_id: uuid.UUID,
    body: schemas.RuleUpdate,
    shared: Shared,
    context: Annotated[RequestContext, authorized()],
) -> schemas.RuleOut:
    """Change a rule; a new condition or examples are embedded again."""
    await AGENTS.get(context.session, context.principal, agent_id)
    changes = body.model_dump(exclude_unset=True)
    await _tools_exist(context, changes)
    rule = await rules.update(
        context.session, context.principal, shared.embedders, agent_id, rule_id, changes
    )
    shown = schemas.RuleOut.model_validate(rule)
    await context.commit()
    return shown


@router.post(RULES_PATH + "/import", response_model=schemas.Imported)
async def import_rules(
    agent_id: uuid.UUID,
    body: schemas.RulesImport,
    shared: Shared,
    context: Annotated[RequestContext, authorized()],
) -> schemas.Imported:
    """Put rules by name: the same import twice changes nothing."""
    await AGENTS.get(context.session, context.principal, agent_id)
    given = [rule.model_dump(exclude_unset=True) for rule in body.rules]
    for index, values in enumerate(given):
        await _tools_exist(context, values, f"rules.{index}.")
    created, updated, same = await rules.put_all(
        context.session, context.principal, shared.embedders, agent_id, given
    )
    await context.commit()
    return schemas.Imported(created=created, updated=updated, unchanged=same)


@router.get(RULES_PATH + "/export", response_model=list_of(schemas.RuleCreate))
async def export_rules(
    agent_id: uuid.UUID, context: Annotated[RequestContext, authorized()]
) -> list[dict[str, object]]:
    """Every live rule of the agent, as an import takes them back."""
    await AGENTS.get(context.session, context.principal, agent_id)
    return await rules.exported(context.session, context.principal, agent_id)


# after the routes above: `/rules/{rule_id}` would take `/rules/export` for a rule's id
mount(
    router,
    rules.RULES,
    path="/rules",
    id_param="rule_id",
    out=schemas.RuleOut,
    parent=Parent(AGENTS, "/agents", "agent_id"),
)


async def _tools_exist(context: RequestContext, values: dict[str, Any], prefix: str = "") -> None:
    """422 naming the first tool the rule attaches that the tenant has not."""
    fields = attached_tools(values, prefix)
    if fields:
        await require_tools(context.session, context.principal.tenant_id, fields)
