"""Audit events as the API shows them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from personae.validation import Input


class AuditEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    event_type: str
    event_category: str
    action: str
    actor_type: str
    actor_id: uuid.UUID | None
    user_id: uuid.UUID | None
    resource_type: str | None
    resource_id: str | None
    description: str
    result: str | None
    event_data: dict[str, Any]
    ip_address: str | None
    trace_id: str | None

    @field_validator("ip_address", mode="before")
    @classmethod
    def _address_text(cls, value: object) -> str | None:
        return None if value is None else str(value)


class AuditPage(BaseModel):
    items: list[AuditEventOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page.")


class AuditFilters(Input):
    event_type: str | None = Field(default=None, max_length=100)
    resource_type: str | None = Field(default=None, max_length=100)
    resource_id: str | None = Field(default=None, max_length=255)
    actor_id: uuid.UUID | None = None
    since: datetime | None = None
    until: datetime | None = None
    cursor: str | None = Field(default=None, max_length=18, pattern=r"^[0-9]+$")
    limit: int = Field(default=50, ge=1, le=500)
