"""SYSTEM/ORGANIZATION/USER_SETTINGS (002), UI_SETTINGS, AGENT_SETTINGS, FEATURE_FLAG,
MODEL_CONFIG (000), provider columns (001)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, Index, Numeric, String, UniqueConstraint, func, text
from sqlalchemy.orm import Mapped, mapped_column

from personae.db.base import (
    Base,
    SoftDelete,
    TenantOwned,
    Timestamps,
    json_object,
    live,
    one_of,
    tenant_fk,
)
from personae.identity.models import FEATURE_PROFILES

SETTING_SCOPES = ("tenant", "user", "persona")
SETTING_NAMESPACES = ("general", "ui", "agent")
STORAGE_TYPES = ("plain", "vault")
MODEL_TYPES = ("chat", "utility", "embedding", "browser", "vision")


class SystemSetting(Base):
    """SYSTEM_SETTINGS (002): installation-wide defaults, the lowest precedence.

    Keys are `<namespace>:<key>` (for example `general:theme`), values `{"v": <json>}`."""

    __tablename__ = "system_settings"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[dict[str, Any]]
    description: Mapped[str | None]
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class Setting(TenantOwned, Timestamps, Base):
    """ORGANIZATION_SETTINGS, USER_SETTINGS (002), UI_SETTINGS, AGENT_SETTINGS (000).

    A value of storage type `vault` lives in `secrets` (`secret_id`), never in `value`."""

    __tablename__ = "settings"
    __table_args__ = (
        one_of("scope", SETTING_SCOPES),
        one_of("namespace", SETTING_NAMESPACES),
        one_of("storage_type", STORAGE_TYPES),
        CheckConstraint("(scope = 'tenant') = (scope_id IS NULL)", name="scope_id_matches_scope"),
        CheckConstraint(
            "storage_type <> 'vault' OR (secret_id IS NOT NULL AND value IS NULL)",
            name="vault_values_in_vault",
        ),
        tenant_fk("secret_id", "secrets", ondelete="RESTRICT"),
        Index(
            "uq_settings_scope_key",
            "tenant_id",
            "scope",
            "scope_id",
            "namespace",
            "key",
            unique=True,
            postgresql_nulls_not_distinct=True,
        ),
    )

    scope: Mapped[str] = mapped_column(String(20))
    scope_id: Mapped[uuid.UUID | None]
    namespace: Mapped[str] = mapped_column(String(20), server_default="general")
    key: Mapped[str] = mapped_column(String(255))
    value: Mapped[dict[str, Any] | None]
    storage_type: Mapped[str] = mapped_column(String(10), server_default="plain")
    secret_id: Mapped[uuid.UUID | None]


class FeatureFlag(TenantOwned, Timestamps, Base):
    """FEATURE_FLAG (000): a tenant's override of a flag's profile default."""

    __tablename__ = "feature_flags"
    __table_args__ = (
        one_of("profile", FEATURE_PROFILES),
        UniqueConstraint("tenant_id", "flag_key"),
    )

    flag_key: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool]
    profile: Mapped[str | None] = mapped_column(String(20))


class ModelConfig(TenantOwned, Timestamps, SoftDelete, Base):
    """MODEL_CONFIG (000): a model a tenant can call, with its limits. Keys live in the vault."""

    __tablename__ = "model_configs"
    __table_args__ = (
        one_of("model_type", MODEL_TYPES),
        CheckConstraint("context_length IS NULL OR context_length > 0", name="context_positive"),
        CheckConstraint("rpm IS NULL OR rpm > 0", name="rpm_positive"),
        CheckConstraint("tpm IS NULL OR tpm > 0", name="tpm_positive"),
        *(
            CheckConstraint(f"{price} IS NULL OR {price} >= 0", name=f"{price}_not_negative")
            for price in ("input_cost_per_mtok", "output_cost_per_mtok")
        ),
        tenant_fk("api_key_secret_id", "secrets", ondelete="SET NULL"),
        live("uq_model_configs_tenant_name", "tenant_id", "name", unique=True),
    )

    name: Mapped[str] = mapped_column(String(255))
    model_type: Mapped[str] = mapped_column(String(20), server_default="chat")
    provider: Mapped[str] = mapped_column(String(50))
    model_name: Mapped[str] = mapped_column(String(255))
    base_url: Mapped[str | None]
    api_key_secret_id: Mapped[uuid.UUID | None]
    context_length: Mapped[int | None]
    rpm: Mapped[int | None]
    tpm: Mapped[int | None]
    kwargs: Mapped[dict[str, Any]] = json_object()
    vision: Mapped[bool] = mapped_column(server_default=text("false"))
    input_cost_per_mtok: Mapped[Decimal | None] = mapped_column(Numeric(12, 6))
    """US dollars per million input tokens (unset: a call's cost is unknown)."""
    output_cost_per_mtok: Mapped[Decimal | None] = mapped_column(Numeric(12, 6))

    @property
    def has_api_key(self) -> bool:
        return self.api_key_secret_id is not None
