"""Request and response shapes of tools and their executions, derived from the models."""

from __future__ import annotations

import uuid
import warnings
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field, JsonValue

from personae.behavior.models import ToolActivation
from personae.db.shapes import input_shape, output_shape
from personae.tools.capsules import Manifest
from personae.tools.models import (
    Capsule,
    DeadLetter,
    ExecutionStatus,
    PersonaTool,
    PromptTemplate,
    Tool,
    ToolExecution,
)
from personae.validation import Input

TOOL_FIELDS = [
    "name",
    "description",
    "category",
    "schema",
    "code",
    "code_type",
    "endpoint",
    "settings",
    "enabled",
    "requires_approval",
]
with warnings.catch_warnings():
    # `schema` is the tools' column and the word users know; it shadows only pydantic's
    # deprecated `BaseModel.schema()`, which nothing here calls.
    warnings.filterwarnings("ignore", message='Field name "schema"', category=UserWarning)
    ToolOut = output_shape(Tool, exclude=["description_tsv", "description_embedding"])
    ToolCreate = input_shape(
        Tool, TOOL_FIELDS, required=["name", "description", "schema", "code_type"]
    )
    ToolUpdate = input_shape(Tool, [f for f in TOOL_FIELDS if f != "name"], partial=True)
if TYPE_CHECKING:  # shapes made at run time are, to a type checker, their base
    ExecutionOut = BaseModel
    DeadLetterOut = BaseModel
else:
    ExecutionOut = output_shape(ToolExecution)
    DeadLetterOut = output_shape(DeadLetter)
PersonaToolOut = output_shape(PersonaTool)
PersonaToolCreate = input_shape(
    PersonaTool, ["tool_id", "is_enabled", "config"], required=["tool_id"]
)
PersonaToolUpdate = input_shape(PersonaTool, ["is_enabled", "config"], partial=True)
ActivationOut = output_shape(ToolActivation)
ActivationCreate = input_shape(
    ToolActivation, ["tool_id", "enabled", "policy_overrides"], required=["tool_id"]
)
ActivationUpdate = input_shape(ToolActivation, ["enabled", "policy_overrides"], partial=True)


class ExecuteIn(Input):
    arguments: dict[str, JsonValue] = Field(default_factory=dict)
    persona_id: uuid.UUID | None = Field(
        default=None, description="Bind the call to what this persona may use."
    )
    agent_id: uuid.UUID | None = Field(
        default=None, description="Bind the call to what this agent may use."
    )
    queue_if_denied: bool = Field(
        default=False,
        description="A call the persona or agent may not make waits for an admin's override "
        "(`awaiting_approval`) instead of being denied.",
    )
    session_id: uuid.UUID | None = None
    trace_id: str | None = Field(default=None, max_length=255)


class SecretsIn(Input):
    arguments: dict[str, JsonValue] = Field(
        default_factory=dict,
        description="The secret arguments of the call, given again (they are never stored).",
    )


class ExecutionFilters(Input):
    status: ExecutionStatus | None = None
    tool_name: str | None = Field(default=None, max_length=255)
    session_id: uuid.UUID | None = None
    persona_id: uuid.UUID | None = None


class DeadLetterFilters(Input):
    topic: str | None = Field(default=None, max_length=255)


class SearchIn(Input):
    task: str = Field(min_length=1, max_length=4000)
    k: int = Field(default=5, ge=1, le=50)
    persona_id: uuid.UUID | None = None
    agent_id: uuid.UUID | None = None


class FoundOut(BaseModel):
    id: uuid.UUID
    name: str
    description: str
    score: float
    function: dict[str, JsonValue]
    """The OpenAI function schema, ready for a prompt's `tools`."""


class ReplayOut(BaseModel):
    dead_letter: DeadLetterOut
    execution: ExecutionOut


class DependencyIn(Input):
    tool_id: uuid.UUID
    kind: Literal["requires", "recommends", "optional"] = "requires"


class DependenciesIn(Input):
    dependencies: list[DependencyIn] = Field(max_length=100)


CapsuleOut = output_shape(Capsule)
TEMPLATE_FIELDS = ["template_name", "template_content", "variables"]
TemplateOut = output_shape(PromptTemplate)
TemplateCreate = input_shape(
    PromptTemplate, TEMPLATE_FIELDS, required=["template_name", "template_content"]
)
TemplateUpdate = input_shape(PromptTemplate, TEMPLATE_FIELDS, partial=True)


class InstallIn(Input):
    manifests: list[Manifest] = Field(default_factory=list, max_length=50)
    offered: list[str] = Field(
        default_factory=list,
        max_length=50,
        description="Names of capsules the installed plugins offer (GET /v1/capsules/offered).",
    )


class RenderIn(Input):
    variables: dict[str, JsonValue] = Field(default_factory=dict)


class RenderOut(BaseModel):
    text: str
