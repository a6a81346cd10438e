"""Request and response shapes of turns and runs, derived from the models."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field, JsonValue

from personae.db.shapes import output_shape
from personae.sessions.event_types import TEXT
from personae.sessions.models import Run, RunStatus, RunStep
from personae.validation import Input

if TYPE_CHECKING:  # shapes made at run time are, to a type checker, their base
    RunOut = BaseModel
    RunStepOut = BaseModel
else:
    RunOut = output_shape(Run)
    RunStepOut = output_shape(RunStep)


class TurnIn(Input):
    content: str = Field(min_length=1, max_length=TEXT)
    stream: bool = Field(
        default=False,
        description="Answer as Server-Sent Events, token by token (also with "
        "`Accept: text/event-stream`).",
    )


class DetachedIn(TurnIn):
    session_id: uuid.UUID


class TurnOut(BaseModel):
    run: RunOut
    content: str | None
    """The answer (null when the run failed or was cancelled)."""
    error: str | None = None
    steps: dict[str, int] = Field(default_factory=dict)
    """Milliseconds per step type."""


class RunDetail(BaseModel):
    run: RunOut
    steps: list[RunStepOut]


class RunFilters(Input):
    session_id: uuid.UUID | None = None
    persona_id: uuid.UUID | None = None
    status: RunStatus | None = None


class Nudge(Input):
    event: str | None = Field(default=None, max_length=50)
    deltas: dict[str, float] = Field(default_factory=dict)


class LevelsOut(BaseModel):
    neuromodulators: dict[str, float]
    parameters: dict[str, JsonValue]
