"""The event types a session's log accepts, version by version, each with its payload.

Names are `<area>.<what>`. Payloads are validated on append (unknown fields refused);
`schema_version` says which shape a stored payload has, so old events stay readable when a
type gains a version. `session.created` and `attachment.added` are written by Personae alone."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    Field,
    JsonValue,
    ValidationError,
    field_validator,
)

from personae.errors import ValidationFailed
from personae.validation import Input

TEXT = 1_000_000
"""Characters in one message."""


class Payload(Input):
    metadata: dict[str, JsonValue] = Field(default_factory=dict)


class ToolCall(Input):
    id: str = Field(min_length=1, max_length=255)
    name: str = Field(min_length=1, max_length=255)
    arguments: dict[str, JsonValue] = Field(default_factory=dict)


FUTURE_SKEW = timedelta(minutes=5)
"""How far past the server's clock a message may say it was said (clocks differ)."""


class Said(Payload):
    """A message: `occurred_at` is when it was said (an imported history's own time); left
    out, it is when it is appended."""

    occurred_at: AwareDatetime | None = None

    @field_validator("occurred_at")
    @classmethod
    def _not_ahead(cls, value: datetime | None) -> datetime | None:
        if value is not None and value > datetime.now(UTC) + FUTURE_SKEW:
            ahead = int(FUTURE_SKEW.total_seconds())
            raise ValueError(f"is in the future (at most {ahead} s ahead of the server)")
        return value


class UserMessage(Said):
    content: str = Field(max_length=TEXT)
    attachments: list[uuid.UUID] = Field(default_factory=list, max_length=100)


class AssistantMessage(Said):
    content: str = Field(default="", max_length=TEXT)
    tool_calls: list[ToolCall] | None = Field(default=None, max_length=100)


class ToolMessage(Said):
    content: str = Field(max_length=TEXT)
    tool_call_id: str = Field(min_length=1, max_length=255)
    name: str | None = Field(default=None, max_length=255)


class SystemMessage(Said):
    content: str = Field(max_length=TEXT)


class EnvelopeChange(Payload):
    """`session.created` / `session.updated`: fields of the envelope to set; `variables`
    and `metadata` are merged key by key."""

    title: str | None = Field(default=None, max_length=500)
    status: Literal["ACTIVE", "IDLE", "CLOSED", "ARCHIVED"] | None = None
    variables: dict[str, JsonValue] | None = None


class ScenarioEntered(Payload):
    scenario_id: uuid.UUID
    version: int = Field(ge=1, le=2_147_483_647)
    step_id: str = Field(min_length=1, max_length=255)


class ScenarioStep(Payload):
    step_id: str = Field(min_length=1, max_length=255)
    reason: str | None = Field(default=None, max_length=1000)


class ScenarioExited(Payload):
    reason: str | None = Field(default=None, max_length=1000)


class ScenarioMigrated(Payload):
    """A migration plan moved the session to the scenario's next version."""

    plan_id: uuid.UUID
    from_version: int = Field(ge=1, le=2_147_483_647)
    to_version: int = Field(ge=1, le=2_147_483_647)
    from_step: str = Field(min_length=1, max_length=255)
    step_id: str = Field(min_length=1, max_length=255)
    policy: Literal["CLEAN_GRAFT", "GAP_FILL", "RE_ROUTE"]
    filled: dict[str, JsonValue] = Field(default_factory=dict)
    """Variables a GAP_FILL took from the customer's profile."""
    asks: list[str] = Field(default_factory=list)
    """Variables the new step needs that nothing had: the agent asks for them."""


class RunEvent(Payload):
    run_id: uuid.UUID
    trace_id: str | None = Field(default=None, max_length=255)
    detail: str | None = Field(default=None, max_length=TEXT)
    token_usage: dict[str, int] | None = None


class RunRequiresAction(Payload):
    """The run's model called functions of the client's: the run waits for their results."""

    run_id: uuid.UUID
    trace_id: str | None = Field(default=None, max_length=255)
    tool_calls: list[ToolCall] = Field(min_length=1, max_length=128)


class RunStepped(Payload):
    run_id: uuid.UUID
    step_number: int = Field(ge=1, le=10_000)
    step_type: str = Field(max_length=50)
    duration_ms: int | None = Field(default=None, ge=0)
    detail: dict[str, JsonValue] = Field(default_factory=dict)


class ToolCalled(Payload):
    tool_call_id: str = Field(min_length=1, max_length=255)
    name: str = Field(min_length=1, max_length=255)
    arguments: dict[str, JsonValue] = Field(default_factory=dict)


class ToolResult(Payload):
    tool_call_id: str = Field(min_length=1, max_length=255)
    result: JsonValue = None
    error: str | None = Field(default=None, max_length=TEXT)


class TurnCompleted(Payload):
    turn_number: int | None = Field(default=None, ge=1, le=2_147_483_647)
    """Left out: the session's next, given as the event is appended (migration 0018)."""
    user_message: str = Field(max_length=TEXT)
    assistant_response: str | None = Field(default=None, max_length=TEXT)
    run_id: uuid.UUID | None = None
    rules_matched: list[JsonValue] = Field(default_factory=list)
    tools_executed: list[JsonValue] = Field(default_factory=list)
    scenario_state: dict[str, JsonValue] | None = None
    context_extracted: dict[str, JsonValue] | None = None
    token_usage: dict[str, int] | None = None
    latency_ms: int | None = Field(default=None, ge=0, le=2_147_483_647)


class Note(Payload):
    text: str = Field(max_length=TEXT)


class AttachmentAdded(Payload):
    attachment_id: uuid.UUID
    filename: str = Field(max_length=255)
    mime_type: str = Field(max_length=100)
    size: int = Field(ge=0)
    sha256: str = Field(min_length=64, max_length=64)
    status: str = Field(max_length=20)
    quarantine_reason: str | None = Field(default=None, max_length=1000)


TYPES: dict[tuple[str, int], type[Payload]] = {
    ("message.user", 1): UserMessage,
    ("message.assistant", 1): AssistantMessage,
    ("message.tool", 1): ToolMessage,
    ("message.system", 1): SystemMessage,
    ("session.created", 1): EnvelopeChange,
    ("session.updated", 1): EnvelopeChange,
    ("scenario.entered", 1): ScenarioEntered,
    ("scenario.step", 1): ScenarioStep,
    ("scenario.exited", 1): ScenarioExited,
    ("scenario.migrated", 1): ScenarioMigrated,
    ("run.started", 1): RunEvent,
    ("run.completed", 1): RunEvent,
    ("run.failed", 1): RunEvent,
    ("run.cancelled", 1): RunEvent,
    ("run.requires_action", 1): RunRequiresAction,
    ("run.resumed", 1): RunEvent,
    ("run.step", 1): RunStepped,
    ("tool.called", 1): ToolCalled,
    ("tool.result", 1): ToolResult,
    ("turn.completed", 1): TurnCompleted,
    ("note", 1): Note,
    ("attachment.added", 1): AttachmentAdded,
}
"""(type, schema version) → payload shape."""

SYSTEM_ONLY = frozenset({"session.created", "attachment.added", "scenario.migrated"})


def parse(event_type: str, schema_version: int, payload: Any, *, field: str) -> BaseModel:
    """The payload as its shape, or 422 naming `field` (unknown type or version, bad shape)."""
    shape = TYPES.get((event_type, schema_version))
    if shape is None:
        known = sorted({name for name, _ in TYPES})
        if any(name == event_type for name, _ in TYPES):
            raise ValidationFailed(
                f"{event_type} has no schema version {schema_version}",
                field=f"{field}.schema_version",
            )
        raise ValidationFailed(
            f"unknown event type {event_type!r}; known: {', '.join(known)}",
            field=f"{field}.event_type",
        )
    try:
        return shape.model_validate(payload)
    except ValidationError as error:
        first = error.errors()[0]
        location = ".".join(str(part) for part in first.get("loc", ()))
        raise ValidationFailed(
            f"the payload does not fit {event_type}: {first.get('msg', '')}",
            field=f"{field}.payload" + (f".{location}" if location else ""),
        ) from None
