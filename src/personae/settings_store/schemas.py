"""Shapes of the settings, flags and model-config routes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from personae.db.errors import INT4_MAX
from personae.validation import Input


class FlagOut(BaseModel):
    key: str
    enabled: bool
    source: str
    description: str


class FlagsOut(BaseModel):
    profile: str
    flags: list[FlagOut]


class ProfileIn(Input):
    profile: str = Field(max_length=20)


class FlagIn(Input):
    enabled: bool


Price = Annotated[
    float | None,
    Field(ge=0, le=999_999, description="US dollars per million tokens; unset: unknown."),
]


class ModelConfigIn(Input):
    name: str = Field(min_length=1, max_length=255)
    model_type: str = Field(default="chat", max_length=20)
    provider: str = Field(min_length=1, max_length=50)
    model_name: str = Field(min_length=1, max_length=255)
    base_url: str | None = Field(default=None, max_length=2048, pattern=r"^https?://")
    api_key: SecretStr | None = Field(default=None, description="Write-only; kept in the vault.")
    context_length: int | None = Field(default=None, ge=1, le=INT4_MAX)
    rpm: int | None = Field(default=None, ge=1, le=INT4_MAX)
    tpm: int | None = Field(default=None, ge=1, le=INT4_MAX)
    kwargs: dict[str, Any] = Field(default_factory=dict)
    vision: bool = False
    input_cost_per_mtok: Price = None
    output_cost_per_mtok: Price = None


class ModelConfigPatch(Input):
    """What a PATCH may change; a field left out stays, and null clears only a nullable one
    (`model_name`, `kwargs` and `vision` refuse it)."""

    model_name: str | None = Field(default=None, min_length=1, max_length=255)
    base_url: str | None = Field(default=None, max_length=2048, pattern=r"^https?://")
    api_key: SecretStr | None = None
    context_length: int | None = Field(default=None, ge=1, le=INT4_MAX)
    rpm: int | None = Field(default=None, ge=1, le=INT4_MAX)
    tpm: int | None = Field(default=None, ge=1, le=INT4_MAX)
    kwargs: dict[str, Any] | None = None
    vision: bool | None = None
    input_cost_per_mtok: Price = None
    output_cost_per_mtok: Price = None

    @field_validator("model_name", "kwargs", "vision", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:  # sent as null (left out, the field is not validated)
            raise ValueError("may not be null")
        return value


class ModelConfigOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid")

    id: uuid.UUID
    name: str
    model_type: str
    provider: str
    model_name: str
    base_url: str | None
    has_api_key: bool
    context_length: int | None
    rpm: int | None
    tpm: int | None
    kwargs: dict[str, Any]
    vision: bool
    input_cost_per_mtok: float | None
    output_cost_per_mtok: float | None
    created_at: datetime
    updated_at: datetime


class SettingIn(Input):
    value: Any = Field(description="Any JSON value. With `secret`, a string kept in the vault.")
    namespace: str = Field(default="general", max_length=20)
    scope_id: uuid.UUID | None = Field(
        default=None, description="The persona (scope persona) or user (scope user; default: you)."
    )
    secret: bool = False


class ResolvedSetting(BaseModel):
    key: str
    namespace: str
    scope: str
    value: Any = Field(description="Null for a secret: reveal it through /v1/secrets.")
    secret: bool
    secret_id: uuid.UUID | None = None
