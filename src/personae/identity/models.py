"""Tables of the identity area. Seeds: Cauldron (organizations, teams, RBAC, tokens,
auth users/sessions/identities), Persona Platform (users, JWT sessions), somaAgent01 (tenant)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, func, text
from sqlalchemy.dialects.postgresql import INET
from sqlalchemy.orm import Mapped, mapped_column

from personae.db.base import (
    Base,
    Created,
    GlobalId,
    SoftDelete,
    TenantKey,
    TenantOwned,
    Timestamps,
    json_object,
    live,
    one_of,
    tenant_fk,
)

FEATURE_PROFILES = ("minimal", "standard", "enhanced", "max")


class Tenant(GlobalId, Timestamps, SoftDelete, Base):
    """TENANT (000), ORGANIZATIONS (002): the unit of isolation."""

    __tablename__ = "tenants"
    __table_args__ = (
        one_of("feature_profile", FEATURE_PROFILES),
        live("uq_tenants_slug", "slug", unique=True),
    )

    name: Mapped[str] = mapped_column(String(255))
    slug: Mapped[str] = mapped_column(String(63))
    config: Mapped[dict[str, Any]] = json_object()
    feature_profile: Mapped[str] = mapped_column(String(20), server_default="standard")
    active: Mapped[bool] = mapped_column(server_default=text("true"))
    embedding_model: Mapped[str | None] = mapped_column(String(100))
    """The model (`provider/model`) of the tenant's vectors; null: the installation's."""


class User(GlobalId, Timestamps, SoftDelete, Base):
    """users (001), USERS, USER_PROFILES, AUTH_USERS (002): a person, across tenants."""

    __tablename__ = "users"
    __table_args__ = (
        one_of("role", ("admin", "user")),
        Index(
            "idx_users_email",
            func.lower(text("email")),
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index("idx_users_role", "role"),
    )

    email: Mapped[str] = mapped_column(String(255))
    password_hash: Mapped[str | None] = mapped_column(
        String(255), deferred=True, deferred_raiseload=True
    )
    """Written, never read by the application (migration 0022: `password_checks`)."""
    name: Mapped[str | None] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(50))
    avatar_url: Mapped[str | None]
    locale: Mapped[str | None] = mapped_column(String(35))
    timezone: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(50), server_default="user")
    is_active: Mapped[bool] = mapped_column(server_default=text("true"))
    is_super_admin: Mapped[bool] = mapped_column(server_default=text("false"))
    email_confirmed_at: Mapped[datetime | None]
    app_metadata: Mapped[dict[str, Any]] = json_object()
    user_metadata: Mapped[dict[str, Any]] = json_object()
    last_login_at: Mapped[datetime | None]


class Identity(GlobalId, Created, Base):
    """AUTH_IDENTITIES, USER_MAPPINGS (002): an external identity (provider + subject) → user."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("provider", "subject"),)

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[str] = mapped_column(String(50))
    subject: Mapped[str] = mapped_column(String(255))
    identity_data: Mapped[dict[str, Any]] = json_object()
    last_used_at: Mapped[datetime | None]


class TenantMember(TenantOwned, Timestamps, Base):
    """ORGANIZATION_USERS (002): a user's membership of a tenant."""

    __tablename__ = "tenant_members"
    __table_args__ = (
        one_of("status", ("active", "suspended")),
        UniqueConstraint("tenant_id", "user_id"),
        Index("ix_tenant_members_user_id", "user_id"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20), server_default="active")


class Team(TenantOwned, Timestamps, SoftDelete, Base):
    """TEAMS (002)."""

    __tablename__ = "teams"
    __table_args__ = (live("uq_teams_tenant_name", "tenant_id", "name", unique=True),)

    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None]


class TeamMember(TenantOwned, Created, Base):
    """TEAM_MEMBERS (002)."""

    __tablename__ = "team_members"
    __table_args__ = (
        tenant_fk("team_id", "teams"),
        one_of("role", ("lead", "member")),
        UniqueConstraint("tenant_id", "team_id", "user_id"),
        Index("ix_team_members_user_id", "tenant_id", "user_id"),
    )

    team_id: Mapped[uuid.UUID]
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20), server_default="member")


class Permission(GlobalId, Base):
    """PERMISSIONS (002): the catalogue, `<resource>:<action>`."""

    __tablename__ = "permissions"
    __table_args__ = (UniqueConstraint("name"),)

    name: Mapped[str] = mapped_column(String(100))
    resource: Mapped[str] = mapped_column(String(50))
    action: Mapped[str] = mapped_column(String(50))
    description: Mapped[str | None]


class Role(TenantOwned, Timestamps, Base):
    """ROLES (002): built-in (owner, admin, member, viewer) and custom roles of a tenant."""

    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None]
    is_builtin: Mapped[bool] = mapped_column(server_default=text("false"))


class RolePermission(TenantKey, Created, Base):
    """ROLE_PERMISSIONS (002)."""

    __tablename__ = "role_permissions"
    __table_args__ = (tenant_fk("role_id", "roles"),)

    role_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    permission_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("permissions.id", ondelete="CASCADE"), primary_key=True
    )


class UserRole(TenantKey, Created, Base):
    """USER_ROLES (002): roles held by a member."""

    __tablename__ = "user_roles"
    __table_args__ = (
        tenant_fk("role_id", "roles"),
        Index("ix_user_roles_role_id", "tenant_id", "role_id"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    granted_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class OrganizationInvitation(TenantOwned, Created, Base):
    """ORGANIZATION_INVITATIONS (002): expiring, single-use."""

    __tablename__ = "organization_invitations"
    __table_args__ = (
        tenant_fk("role_id", "roles"),
        tenant_fk("team_id", "teams", ondelete="SET NULL"),
        UniqueConstraint("tenant_id", "token_hash"),
        Index("ix_organization_invitations_email", "tenant_id", func.lower(text("email"))),
    )

    email: Mapped[str] = mapped_column(String(255))
    role_id: Mapped[uuid.UUID]
    team_id: Mapped[uuid.UUID | None]
    token_hash: Mapped[str] = mapped_column(String(128))
    invited_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class AuthSession(TenantOwned, Created, Base):
    """sessions (001), USER_SESSIONS, AUTH_SESSIONS (002): refresh-token families."""

    __tablename__ = "auth_sessions"
    __table_args__ = (
        one_of("aal", ("aal1", "aal2")),
        UniqueConstraint("tenant_id", "token_hash"),
        Index("idx_sessions_token_hash", "token_hash"),
        Index("idx_sessions_expires_at", "expires_at"),
        Index("ix_auth_sessions_family", "tenant_id", "family_id"),
        Index("ix_auth_sessions_user_id", "user_id"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    family_id: Mapped[uuid.UUID]
    token_hash: Mapped[str] = mapped_column(String(128))
    aal: Mapped[str] = mapped_column(String(10), server_default="aal1")
    ip_address: Mapped[str | None] = mapped_column(INET)
    user_agent: Mapped[str | None]
    expires_at: Mapped[datetime]
    not_after: Mapped[datetime | None]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(50))


class ApiToken(TenantOwned, Created, Base):
    """API_TOKENS (002): machine credentials, shown once, stored hashed, scoped."""

    __tablename__ = "api_tokens"
    __table_args__ = (
        UniqueConstraint("tenant_id", "token_hash"),
        Index("ix_api_tokens_token_hash", "token_hash"),
    )

    name: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(128))
    scopes: Mapped[list[str]] = mapped_column(server_default=text("'{}'::text[]"))
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
