"""STORAGE_BUCKETS, STORAGE_OBJECTS, FILE_METADATA, ACCESS_CONTROLS (002)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, LargeBinary, String, text
from sqlalchemy.orm import Mapped, mapped_column

from personae.db.base import (
    Base,
    Created,
    SoftDelete,
    TenantOwned,
    Timestamps,
    json_object,
    live,
    one_of,
    tenant_fk,
)

GRANTEE_TYPES = ("user", "team", "role", "persona", "token")
PERMISSIONS = ("read", "write", "admin")


class StorageBucket(TenantOwned, Timestamps, Base):
    __tablename__ = "storage_buckets"
    __table_args__ = (
        Index("uq_storage_buckets_name", "tenant_id", "name", unique=True),
        CheckConstraint("file_size_limit IS NULL OR file_size_limit > 0", name="limit_positive"),
    )

    name: Mapped[str] = mapped_column(String(255))
    owner: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    public: Mapped[bool] = mapped_column(server_default=text("false"))
    file_size_limit: Mapped[int | None] = mapped_column(BigInteger)
    allowed_mime_types: Mapped[list[str] | None]


class StorageObject(TenantOwned, Timestamps, SoftDelete, Base):
    """A stored file: its bytes, size, digest and detected type."""

    __tablename__ = "storage_objects"
    __table_args__ = (
        tenant_fk("bucket_id", "storage_buckets"),
        CheckConstraint("size >= 0", name="size_nonnegative"),
        live("uq_storage_objects_name", "tenant_id", "bucket_id", "name", unique=True),
        Index("ix_storage_objects_sha256", "tenant_id", "sha256"),
    )

    bucket_id: Mapped[uuid.UUID]
    name: Mapped[str]
    owner: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    metadata_: Mapped[dict[str, Any]] = json_object("metadata")
    path_tokens: Mapped[list[str]] = mapped_column(server_default=text("'{}'::text[]"))
    mime_type: Mapped[str | None] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    sha256: Mapped[str | None] = mapped_column(String(64))
    content: Mapped[bytes | None] = mapped_column(LargeBinary)


class FileMetadata(TenantOwned, Timestamps, Base):
    __tablename__ = "file_metadata"
    __table_args__ = (
        tenant_fk("object_id", "storage_objects"),
        Index("ix_file_metadata_object", "tenant_id", "object_id"),
        Index("ix_file_metadata_entity", "tenant_id", "entity_type", "entity_id"),
    )

    object_id: Mapped[uuid.UUID]
    title: Mapped[str | None]
    description: Mapped[str | None]
    tags: Mapped[list[str]] = mapped_column(server_default=text("'{}'::text[]"))
    entity_type: Mapped[str | None] = mapped_column(String(100))
    entity_id: Mapped[uuid.UUID | None]


class AccessControl(TenantOwned, Created, Base):
    """A grant on an object or a whole bucket to a user, team, role, persona or token."""

    __tablename__ = "access_controls"
    __table_args__ = (
        tenant_fk("object_id", "storage_objects"),
        tenant_fk("bucket_id", "storage_buckets"),
        one_of("entity_type", GRANTEE_TYPES),
        one_of("permission", PERMISSIONS),
        CheckConstraint("num_nonnulls(object_id, bucket_id) >= 1", name="targets_something"),
        Index("ix_access_controls_object", "tenant_id", "object_id"),
        Index("ix_access_controls_bucket", "tenant_id", "bucket_id"),
        Index("ix_access_controls_grantee", "tenant_id", "entity_type", "entity_id"),
    )

    object_id: Mapped[uuid.UUID | None]
    bucket_id: Mapped[uuid.UUID | None]
    entity_type: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[uuid.UUID]
    permission: Mapped[str] = mapped_column(String(10))
