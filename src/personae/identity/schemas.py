"""Request and response shapes of the identity routes."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=255)
    password: str = Field(min_length=1, max_length=1024)
    tenant: str | None = Field(
        default=None, max_length=255, description="Tenant slug or id, when you belong to several."
    )


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str = Field(min_length=1, max_length=512)


class TokenResponse(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the scheme name
    expires_in: int
    tenant_id: uuid.UUID
    user_id: uuid.UUID


class MeResponse(BaseModel):
    kind: str
    tenant_id: uuid.UUID
    user_id: uuid.UUID | None
    permissions: list[str]
