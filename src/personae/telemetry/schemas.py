"""Request and response shapes of conversation telemetry."""

from __future__ import annotations

import uuid

from pydantic import Field

from personae.db.shapes import input_shape, output_shape
from personae.telemetry.models import TelemetryEvent, TelemetrySession
from personae.validation import Input

TelemetrySessionOut = output_shape(TelemetrySession)
TelemetrySessionCreate = input_shape(
    TelemetrySession,
    ["session_id", "conversation_id", "user_id", "metadata"],
    required=["session_id"],
)
TelemetryEventOut = output_shape(TelemetryEvent)
TelemetryEventCreate = input_shape(
    TelemetryEvent, ["event_type", "event_data"], required=["event_type"]
)


class TelemetrySessionFilters(Input):
    session_id: str | None = Field(default=None, max_length=255)
    conversation_id: uuid.UUID | None = None
    user_id: str | None = Field(default=None, max_length=255)


class TelemetryEventFilters(Input):
    event_type: str | None = Field(default=None, max_length=100)
