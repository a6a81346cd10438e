"""An agent's templates and variables (its rules have routes of their own). A variable's
resolver must name a tool the tenant has, checked here (tools are an area above
behaviour's)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter

from personae.agents.service import AGENTS
from personae.api.deps import RequestContext
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


async def _resolver_exists(context: RequestContext, values: Mapping[str, Any]) -> None:
    """422 unless the variable's resolver, if it names one, is a tool the tenant has."""
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
    create=schemas.VariableCreate,
    update=schemas.VariableUpdate,
    parent=AGENT,
    tag="variables",
    check=_resolver_exists,
)
