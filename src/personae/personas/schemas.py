"""Request and response shapes of personas and their shares, derived from the models."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from personae.db.shapes import input_shape, output_shape
from personae.personas.models import Agent, Persona, PersonaMember

PERSONA_FIELDS = [
    "name",
    "display_name",
    "description",
    "system_prompt",
    "default_provider",
    "fallback_providers",
    "neuromodulators",
    "adaptation_state",
    "metadata",
    "is_active",
    "client_sampling",
    "client_instructions",
]

PersonaOut = output_shape(Persona)
PersonaCreate = input_shape(Persona, PERSONA_FIELDS, required=["name"])
PersonaUpdate = input_shape(Persona, PERSONA_FIELDS, partial=True)
PersonaMemberOut = output_shape(PersonaMember)
PersonaMemberCreate = input_shape(PersonaMember, ["user_id", "role"], required=["user_id"])
PersonaMemberUpdate = input_shape(PersonaMember, ["role"], partial=True)

AGENT_FIELDS = [
    "persona_id",
    "name",
    "description",
    "system_prompt_override",
    "preferred_provider",
    "default_model",
    "fallback_models",
    "tool_permissions",
    "configuration",
    "metadata",
    "is_active",
]
TOOL_NAMES = (
    list[Annotated[str, Field(min_length=1, max_length=255)]] | None,
    Field(None, max_length=1000, description="tools' ids or names; set: replaces the persona's"),
)
AgentOut = output_shape(Agent)
AgentCreate = input_shape(
    Agent, AGENT_FIELDS, required=["name"], overrides={"tool_permissions": TOOL_NAMES}
)
AgentUpdate = input_shape(
    Agent, AGENT_FIELDS, partial=True, overrides={"tool_permissions": TOOL_NAMES}
)
