"""An agent's templates and variables (its rules have routes of their own)."""

from __future__ import annotations

from fastapi import APIRouter

from personae.agents.service import AGENTS
from personae.api.resource_routes import Parent, mount
from personae.behavior import schemas
from personae.behavior.templates import TEMPLATES
from personae.behavior.variables import VARIABLES

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
)
