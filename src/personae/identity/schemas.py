"""Request and response shapes of the identity routes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from personae.db.shapes import input_shape, output_shape
from personae.identity.models import Identity, Team, TeamMember
from personae.validation import Input


class LoginRequest(Input):
    email: str = Field(min_length=3, max_length=255)
    password: str = Field(min_length=1, max_length=1024)
    tenant: str | None = Field(
        default=None,
        max_length=255,
        description="Tenant slug or id; without it, the tenant you joined first.",
    )


class PasswordChange(Input):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class RefreshRequest(Input):
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


class ApiTokenCreate(Input):
    name: str = Field(min_length=1, max_length=255)
    scopes: list[str] = Field(
        max_length=200,
        description="Permissions, `<resource>:<action>`, or presets: `openai:chat` (what "
        "the OpenAI front door needs).",
    )
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


class ApiTokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    token_prefix: str
    scopes: list[str]
    user_id: uuid.UUID | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiTokenCreated(ApiTokenOut):
    token: str = Field(description="The token itself: shown this once, never again.")


class RoleCreate(Input):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    description: str | None = Field(default=None, max_length=1000)
    permissions: list[str] = Field(max_length=200)


class RoleOut(BaseModel):
    id: uuid.UUID
    name: str
    description: str | None
    is_builtin: bool
    permissions: list[str]


class MemberOut(BaseModel):
    user_id: uuid.UUID
    email: str
    status: str
    roles: list[str]


class MemberRoles(Input):
    roles: list[str] = Field(min_length=1, max_length=20)


class InvitationCreate(Input):
    email: str = Field(min_length=3, max_length=255)
    role: str = Field(min_length=1, max_length=100)


class InvitationCreated(BaseModel):
    id: uuid.UUID
    email: str
    role: str
    expires_at: datetime
    token: str = Field(description="Send it to the invitee; shown this once.")


class InvitationAccept(Input):
    token: str = Field(min_length=1, max_length=512)
    password: str | None = Field(default=None, max_length=1024)


class InvitationAccepted(BaseModel):
    tenant_id: uuid.UUID
    user_id: uuid.UUID


TeamOut = output_shape(Team)
TeamCreate = input_shape(Team, ["name", "description"], required=["name"])
TeamUpdate = input_shape(Team, ["name", "description"], partial=True)
TeamMemberOut = output_shape(TeamMember)
TeamMemberCreate = input_shape(TeamMember, ["user_id", "role"], required=["user_id"])
TeamMemberUpdate = input_shape(TeamMember, ["role"], partial=True)
IdentityOut = output_shape(Identity)
