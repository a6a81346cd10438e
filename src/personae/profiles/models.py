"""customer_profiles, channel_identities, profile_fields, profile_assets (004)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from personae.db.base import Base, Created, TenantOwned, Timestamps, json_object, one_of, tenant_fk

FIELD_SOURCES = ("USER_PROVIDED", "EXTRACTED", "INFERRED", "SYSTEM")


class CustomerProfile(TenantOwned, Timestamps, Base):
    __tablename__ = "customer_profiles"
    __table_args__ = (
        tenant_fk("merged_into_id", "customer_profiles", ondelete="SET NULL"),
        CheckConstraint(
            "merged_into_id IS NULL OR merged_into_id <> id", name="not_merged_into_self"
        ),
        Index(
            "uq_profiles_external",
            "tenant_id",
            "external_id",
            unique=True,
            postgresql_where=text("external_id IS NOT NULL"),
        ),
    )

    external_id: Mapped[str | None] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(255))
    merged_into_id: Mapped[uuid.UUID | None]
    metadata_: Mapped[dict[str, Any]] = json_object("metadata")


class ChannelIdentity(TenantOwned, Created, Base):
    """Who a profile is on a channel: the lookup messaging channels need."""

    __tablename__ = "channel_identities"
    __table_args__ = (
        tenant_fk("profile_id", "customer_profiles"),
        UniqueConstraint("tenant_id", "channel", "channel_user_id", name="uq_channel_identity"),
        Index("idx_channel_identities_profile", "tenant_id", "profile_id"),
    )

    profile_id: Mapped[uuid.UUID]
    channel: Mapped[str] = mapped_column(String(50))
    channel_user_id: Mapped[str] = mapped_column(String(255))
    verified: Mapped[bool] = mapped_column(server_default=text("false"))


class ProfileField(TenantOwned, Base):
    """A value known about a profile, with its source and validity (closed, not overwritten)."""

    __tablename__ = "profile_fields"
    __table_args__ = (
        tenant_fk("profile_id", "customer_profiles"),
        one_of("source", FIELD_SOURCES),
        CheckConstraint("confidence >= 0 AND confidence <= 1", name="confidence_range"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="validity_ordered"),
        Index("idx_profile_fields_name", "tenant_id", "profile_id", "field_name"),
    )

    profile_id: Mapped[uuid.UUID]
    field_name: Mapped[str] = mapped_column(String(255))
    field_value: Mapped[str | None]
    source: Mapped[str] = mapped_column(String(50))
    confidence: Mapped[float] = mapped_column(server_default=text("1.0"))
    verified: Mapped[bool] = mapped_column(server_default=text("false"))
    valid_from: Mapped[datetime] = mapped_column(server_default=text("now()"))
    valid_to: Mapped[datetime | None]


class ProfileAsset(TenantOwned, Created, Base):
    __tablename__ = "profile_assets"
    __table_args__ = (
        tenant_fk("profile_id", "customer_profiles"),
        Index("idx_profile_assets_type", "tenant_id", "profile_id", "asset_type"),
    )

    profile_id: Mapped[uuid.UUID]
    asset_type: Mapped[str] = mapped_column(String(50))
    asset_reference: Mapped[str] = mapped_column(String(500))
    metadata_: Mapped[dict[str, Any]] = json_object("metadata")
