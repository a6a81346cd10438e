"""Personas and their shares."""

from __future__ import annotations

from fastapi import APIRouter

from personae.agents.service import AGENTS
from personae.api.resource_routes import Parent, mount
from personae.erasure import delete_persona
from personae.personas import schemas
from personae.personas.service import PERSONA_MEMBERS, PERSONAS

router = APIRouter(prefix="/v1")
mount(
    router,
    PERSONAS,
    path="/personas",
    id_param="persona_id",
    out=schemas.PersonaOut,
    create=schemas.PersonaCreate,
    update=schemas.PersonaUpdate,
    delete=delete_persona,
)
mount(
    router,
    PERSONA_MEMBERS,
    path="/members",
    id_param="member_id",
    out=schemas.PersonaMemberOut,
    create=schemas.PersonaMemberCreate,
    update=schemas.PersonaMemberUpdate,
    parent=Parent(PERSONAS, "/personas", "persona_id"),
)
mount(
    router,
    AGENTS,
    path="/agents",
    id_param="agent_id",
    out=schemas.AgentOut,
    create=schemas.AgentCreate,
    update=schemas.AgentUpdate,
)
