"""Secrets as the API shows them: never the value, except from `reveal`."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from personae.validation import Input
from personae.vault.models import SECRET_SCOPES, SECRET_TYPES

MAX_SECRET_BYTES = 16_384


class SecretWrite(Input):
    key_name: str = Field(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9_.:-]+$")
    value: SecretStr = Field(description="Write-only: never returned except by reveal.")
    secret_type: str = Field(default="other", json_schema_extra={"enum": list(SECRET_TYPES)})
    scope: str = Field(default="tenant", json_schema_extra={"enum": list(SECRET_SCOPES)})
    scope_id: uuid.UUID | None = None


class SecretOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    key_name: str
    secret_type: str
    scope: str
    scope_id: uuid.UUID | None
    key_version: int
    created_at: datetime
    updated_at: datetime
    last_revealed_at: datetime | None


class SecretRevealed(BaseModel):
    id: uuid.UUID
    key_name: str
    value: str
