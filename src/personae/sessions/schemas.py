"""Request and response shapes of sessions and their logs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from personae.db.shapes import input_shape, output_shape
from personae.sessions.models import SESSION_STATUSES, Attachment, Message, Session, TurnRecord
from personae.validation import Input

CREATE_FIELDS = [
    "persona_id",
    "agent_id",
    "customer_profile_id",
    "user_id",
    "channel",
    "user_channel_id",
    "title",
    "status",
    "variables",
    "metadata",
]

SessionOut = output_shape(Session)
SessionCreate = input_shape(Session, CREATE_FIELDS)
SessionUpdate = input_shape(Session, ["title", "status", "variables", "metadata"], partial=True)
if TYPE_CHECKING:  # a shape made at run time is, to a type checker, its base
    ChannelSession = Input
else:
    ChannelSession = input_shape(
        Session, CREATE_FIELDS, required=["channel", "user_channel_id"], name="ChannelSession"
    )
MessageOut = output_shape(Message, exclude=["content_tsv"])
TurnOut = output_shape(TurnRecord)
AttachmentOut = output_shape(Attachment, exclude=["file_path", "storage_object_id"])


class SessionFilters(Input):
    persona_id: uuid.UUID | None = None
    agent_id: uuid.UUID | None = None
    customer_profile_id: uuid.UUID | None = None
    channel: str | None = Field(default=None, max_length=50)
    user_channel_id: str | None = Field(default=None, max_length=255)
    status: str | None = Field(default=None, pattern="^(" + "|".join(SESSION_STATUSES) + ")$")


class EventIn(Input):
    event_type: str = Field(min_length=1, max_length=100, examples=["message.user"])
    schema_version: int = Field(default=1, ge=1, le=1000)
    payload: dict[str, JsonValue] = Field(default_factory=dict)
    trace_id: str | None = Field(default=None, max_length=255)


class AppendRequest(Input):
    events: list[EventIn] = Field(min_length=1)
    expected_seq: int | None = Field(
        default=None,
        ge=0,
        le=9_223_372_036_854_775_807,
        description="Append only if the session's last seq is this (else 409).",
    )


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    seq: int
    event_type: str
    schema_version: int
    payload: dict[str, Any]
    trace_id: str | None
    created_at: datetime


class AppendResult(BaseModel):
    events: list[EventOut]
    last_seq: int


class EventPage(BaseModel):
    items: list[EventOut]
    next_after: int | None = Field(description="Pass as `after` for the next page.")
