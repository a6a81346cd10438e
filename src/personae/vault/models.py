"""secrets (001), vault-held agent settings (000)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from personae.db.base import Base, Created, TenantOwned, Timestamps, one_of

SECRET_SCOPES = ("tenant", "persona", "agent", "user")
SECRET_TYPES = ("llm_provider_key", "email_imap", "email_smtp", "agent_setting", "other")
OWNED_SECRETS = {
    "model_config:": "a model config's (PATCH /v1/model-configs/{id}, model_configs:update)",
    "setting:": "a secret setting's (PUT /v1/settings, settings:write)",
}
"""Key-name prefixes of secrets a resource owns: written and deleted through that resource
only, never through `/v1/secrets` (whose `secrets:write` would otherwise bypass it)."""


def owner_of(key_name: str) -> str | None:
    """Whose a secret of this name is, when a resource owns it (see `OWNED_SECRETS`)."""
    return next((o for p, o in OWNED_SECRETS.items() if key_name.startswith(p)), None)


class Secret(TenantOwned, Timestamps, Base):
    """A ciphertext bound (as AES-GCM associated data) to its tenant, scope and name."""

    __tablename__ = "secrets"
    __table_args__ = (
        one_of("scope", SECRET_SCOPES),
        one_of("secret_type", SECRET_TYPES),
        Index(
            "uq_secrets_scope_type_key",
            "tenant_id",
            "scope",
            "scope_id",
            "secret_type",
            "key_name",
            unique=True,
            postgresql_nulls_not_distinct=True,
        ),
        Index("idx_secrets_persona_id", "tenant_id", "scope_id"),
        Index("ix_secrets_key_version", "key_version"),
    )

    scope: Mapped[str] = mapped_column(String(20), server_default="tenant")
    scope_id: Mapped[uuid.UUID | None]
    secret_type: Mapped[str] = mapped_column(String(50))
    key_name: Mapped[str] = mapped_column(String(255))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    nonce: Mapped[bytes] = mapped_column(LargeBinary)
    key_version: Mapped[int] = mapped_column(SmallInteger)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    last_revealed_at: Mapped[datetime | None]


class VaultKey(Created, Base):
    """A data-encryption key, wrapped by the master key (which never enters the database).

    `personae vault rotate` adds a version; secrets name the version that sealed them."""

    __tablename__ = "vault_keys"
    __table_args__ = (CheckConstraint("version > 0", name="version_positive"),)

    version: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    nonce: Mapped[bytes] = mapped_column(LargeBinary)
    master_fingerprint: Mapped[str] = mapped_column(String(16))
