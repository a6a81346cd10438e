"""An agent's templates and variables (its rules have routes of their own). A variable's
resolver must name a tool the tenant has, checked here (tools are an area above
behaviour's)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, cast

from fastapi import APIRouter
from pydantic import BaseModel

from personae.agents.service import AGENTS
from personae.api.deps import RequestContext, authorized
from personae.api.resource_routes import Parent, mount
from personae.behavior import schemas
from personae.behavior.templates import TEMPLATES
from personae.behavior.variables import VARIABLES
from personae.tools.catalogue import require_tools

router = APIRouter(prefix="/v1")
AGENT = Parent(AGENTS, "/agents", "agent_id")

mount(
    router,
    TEMPLATES,
    path="/templates",
    id_param="template_id",
    out=schemas.TemplateOut,
    create=schemas.TemplateCreate,
    update=schemas.TemplateUpdate,
    parent=AGENT,
    tag="templates",
)
VARIABLES_PATH = "/agents/{agent_id}/variables"


@router.post(
    VARIABLES_PATH, status_code=201, response_model=schemas.VariableOut, tags=["variables"]
)
async def create_variable(
    agent_id: uuid.UUID,
    body: schemas.VariableCreate,  # type: ignore[valid-type]
    context: Annotated[RequestContext, authorized()],
) -> schemas.VariableOut:  # type: ignore[valid-type]
    """A variable of the agent; its resolver, if it names one, must be a tool the tenant has."""
    await AGENTS.get(context.session, context.principal, agent_id)
    values = cast(BaseModel, body).model_dump(exclude_unset=True)
    await _resolver_exists(context, values)
    made = await VARIABLES.create(
        context.session, context.principal, values, {"agent_id": agent_id}
    )
    shown = schemas.VariableOut.model_validate(made)
    await context.commit()
    return shown


@router.patch(
    VARIABLES_PATH + "/{variable_id}", response_model=schemas.VariableOut, tags=["variables"]
)
async def update_variable(
    agent_id: uuid.UUID,
    variable_id: uuid.UUID,
    body: schemas.VariableUpdate,  # type: ignore[valid-type]
    context: Annotated[RequestContext, authorized()],
) -> schemas.VariableOut:  # type: ignore[valid-type]
    """Change a variable of the agent (a new resolver must be a tool the tenant has)."""
    await AGENTS.get(context.session, context.principal, agent_id)
    changes = cast(BaseModel, body).model_dump(exclude_unset=True)
    await _resolver_exists(context, changes)
    changed = await VARIABLES.update(
        context.session, context.principal, variable_id, changes, {"agent_id": agent_id}
    )
    shown = schemas.VariableOut.model_validate(changed)
    await context.commit()
    return shown


async def _resolver_exists(context: RequestContext, values: dict[str, Any]) -> None:
    tool = values.get("resolver_tool_id")
    if tool is not None:
        fields = {"resolver_tool_id": str(tool)}
        await require_tools(context.session, context.principal.tenant_id, fields)


mount(
    router,
    VARIABLES,
    path="/variables",
    id_param="variable_id",
    out=schemas.VariableOut,
    parent=AGENT,
    tag="variables",
)
