"""Request and response shapes of tools and their executions, derived from the models."""

from __future__ import annotations

import uuid
import warnings
from typing import Literal

from pydantic import Field, JsonValue

from personae.db.shapes import input_shape, output_shape
from personae.tools.models import Tool, ToolExecution
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
ExecutionOut = output_shape(ToolExecution)


class ExecuteIn(Input):
    arguments: dict[str, JsonValue] = Field(default_factory=dict)
    session_id: uuid.UUID | None = None
    trace_id: str | None = Field(default=None, max_length=255)


class DependencyIn(Input):
    tool_id: uuid.UUID
    kind: Literal["requires", "recommends", "optional"] = "requires"


class DependenciesIn(Input):
    dependencies: list[DependencyIn] = Field(max_length=100)
