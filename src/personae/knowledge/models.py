"""documents, chunks (001), DOCUMENTS, DOCUMENT_VERSIONS, DOCUMENT_CHUNKS, DOCUMENT_CATEGORIES,
DOCUMENT_TAGS, their associations, DOCUMENT_TEAMS, EMBEDDING_MODELS, EMBEDDINGS, COLLECTIONS,
COLLECTION_ITEMS, SEARCH_QUERIES, SEARCH_RESULTS (002)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column

from personae.db.base import (
    Base,
    Created,
    SoftDelete,
    TenantKey,
    TenantOwned,
    Timestamps,
    gin,
    hnsw,
    json_object,
    one_of,
    searchable,
    tenant_fk,
)
from personae.db.types import EMBEDDING_DIMS, Vector

DOCUMENT_STATUSES = ("processing", "completed", "failed")
TEAM_PERMISSIONS = ("read", "write")
SEARCH_MODES = ("vector", "text", "hybrid")


class Document(TenantOwned, Timestamps, SoftDelete, Base):
    __tablename__ = "documents"
    __table_args__ = (
        tenant_fk("persona_id", "personas"),
        one_of("status", DOCUMENT_STATUSES),
        CheckConstraint("file_size IS NULL OR file_size >= 0", name="file_size_nonnegative"),
        Index("idx_documents_persona_id", "tenant_id", "persona_id"),
        Index("idx_documents_status", "tenant_id", "status"),
        Index("idx_documents_created_at", "tenant_id", "created_at"),
        gin("documents", "name_tsv"),
    )

    persona_id: Mapped[uuid.UUID | None]
    name: Mapped[str] = mapped_column(String(255))
    source: Mapped[str | None] = mapped_column(String(255))
    source_url: Mapped[str | None]
    file_path: Mapped[str | None]
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    mime_type: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(50), server_default="processing")
    error_message: Mapped[str | None]
    current_version: Mapped[int] = mapped_column(server_default=sql_text("1"))
    metadata_: Mapped[dict[str, Any]] = json_object("metadata")
    uploaded_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    name_tsv: Mapped[Any] = searchable("name")


class DocumentVersion(TenantOwned, Created, Base):
    """DOCUMENT_VERSIONS (002): every upload of a document, its bytes in storage."""

    __tablename__ = "document_versions"
    __table_args__ = (
        tenant_fk("document_id", "documents"),
        tenant_fk("storage_object_id", "storage_objects", ondelete="SET NULL"),
        UniqueConstraint("tenant_id", "document_id", "version"),
    )

    document_id: Mapped[uuid.UUID]
    version: Mapped[int]
    content_hash: Mapped[str | None] = mapped_column(String(64))
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    mime_type: Mapped[str | None] = mapped_column(String(100))
    storage_object_id: Mapped[uuid.UUID | None]
    change_note: Mapped[str | None]
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class Chunk(TenantOwned, Created, Base):
    """chunks (001), DOCUMENT_CHUNKS (002): text with its embedding; curated summaries too."""

    __tablename__ = "chunks"
    __table_args__ = (
        tenant_fk("document_id", "documents"),
        tenant_fk("persona_id", "personas"),
        CheckConstraint("is_curated OR source_chunk_ids IS NULL", name="sources_only_when_curated"),
        Index("idx_chunks_document_id", "tenant_id", "document_id", "chunk_index"),
        Index("idx_chunks_persona_id", "tenant_id", "persona_id"),
        hnsw("chunks", "embedding"),
        gin("chunks", "text_tsv"),
    )

    document_id: Mapped[uuid.UUID]
    document_version: Mapped[int] = mapped_column(server_default=sql_text("1"))
    persona_id: Mapped[uuid.UUID | None]
    chunk_index: Mapped[int]
    text: Mapped[str]
    token_count: Mapped[int | None]
    embedding: Mapped[Any] = mapped_column(Vector(EMBEDDING_DIMS))
    embedding_model: Mapped[str | None] = mapped_column(String(100))
    is_curated: Mapped[bool] = mapped_column(server_default=sql_text("false"))
    source_chunk_ids: Mapped[list[uuid.UUID] | None]
    metadata_: Mapped[dict[str, Any]] = json_object("metadata")
    retired_at: Mapped[datetime | None]
    text_tsv: Mapped[Any] = searchable("text")


class DocumentCategory(TenantOwned, Created, Base):
    """DOCUMENT_CATEGORIES (002): a tree (parent_id)."""

    __tablename__ = "document_categories"
    __table_args__ = (
        tenant_fk("parent_id", "document_categories"),
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
        Index(
            "uq_document_categories_name",
            "tenant_id",
            "parent_id",
            "name",
            unique=True,
            postgresql_nulls_not_distinct=True,
        ),
    )

    parent_id: Mapped[uuid.UUID | None]
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None]


class DocumentTag(TenantOwned, Created, Base):
    __tablename__ = "document_tags"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    name: Mapped[str] = mapped_column(String(100))


class DocumentCategoryAssociation(TenantKey, Created, Base):
    __tablename__ = "document_category_associations"
    __table_args__ = (
        tenant_fk("document_id", "documents"),
        tenant_fk("category_id", "document_categories"),
        Index("ix_document_category_associations_category", "tenant_id", "category_id"),
    )

    document_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    category_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)


class DocumentTagAssociation(TenantKey, Created, Base):
    __tablename__ = "document_tag_associations"
    __table_args__ = (
        tenant_fk("document_id", "documents"),
        tenant_fk("tag_id", "document_tags"),
        Index("ix_document_tag_associations_tag", "tenant_id", "tag_id"),
    )

    document_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    tag_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)


class DocumentTeam(TenantKey, Created, Base):
    """DOCUMENT_TEAMS (002): which teams may read or write a document."""

    __tablename__ = "document_teams"
    __table_args__ = (
        tenant_fk("document_id", "documents"),
        tenant_fk("team_id", "teams"),
        one_of("permission", TEAM_PERMISSIONS),
        Index("ix_document_teams_team", "tenant_id", "team_id"),
    )

    document_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    team_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    permission: Mapped[str] = mapped_column(String(10), server_default="read")


class Embedding(TenantOwned, Created, Base):
    """EMBEDDINGS (002): a free-standing vector for any entity, grouped by collections."""

    __tablename__ = "embeddings"
    __table_args__ = (
        Index("ix_embeddings_entity", "tenant_id", "entity_type", "entity_id"),
        hnsw("embeddings", "embedding"),
        gin("embeddings", "content_tsv"),
    )

    content: Mapped[str]
    embedding: Mapped[Any] = mapped_column(Vector(EMBEDDING_DIMS))
    metadata_: Mapped[dict[str, Any]] = json_object("metadata")
    entity_type: Mapped[str | None] = mapped_column(String(100))
    entity_id: Mapped[uuid.UUID | None]
    model: Mapped[str] = mapped_column(String(100))
    model_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("embedding_models.id", ondelete="RESTRICT")
    )
    dimensions: Mapped[int] = mapped_column(server_default=sql_text(str(EMBEDDING_DIMS)))
    content_tsv: Mapped[Any] = searchable("content")


class Collection(TenantOwned, Timestamps, Base):
    """COLLECTIONS (002): a named set of documents and embeddings (like a vector store)."""

    __tablename__ = "collections"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None]
    model_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("embedding_models.id", ondelete="RESTRICT")
    )
    metadata_schema: Mapped[dict[str, Any]] = json_object()


class CollectionItem(TenantOwned, Created, Base):
    __tablename__ = "collection_items"
    __table_args__ = (
        tenant_fk("collection_id", "collections"),
        tenant_fk("embedding_id", "embeddings"),
        tenant_fk("document_id", "documents"),
        CheckConstraint("num_nonnulls(embedding_id, document_id) = 1", name="one_member"),
        Index(
            "uq_collection_items_member",
            "tenant_id",
            "collection_id",
            "embedding_id",
            "document_id",
            unique=True,
            postgresql_nulls_not_distinct=True,
        ),
    )

    collection_id: Mapped[uuid.UUID]
    embedding_id: Mapped[uuid.UUID | None]
    document_id: Mapped[uuid.UUID | None]


class SearchQuery(TenantOwned, Created, Base):
    """SEARCH_QUERIES (002): logged when the tenant's flag asks for it."""

    __tablename__ = "search_queries"
    __table_args__ = (
        one_of("mode", SEARCH_MODES),
        CheckConstraint("top_k > 0", name="top_k_positive"),
        Index("ix_search_queries_created", "tenant_id", "created_at"),
        hnsw("search_queries", "query_embedding"),
    )

    query_text: Mapped[str]
    query_embedding: Mapped[Any | None] = mapped_column(Vector(EMBEDDING_DIMS))
    model_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("embedding_models.id", ondelete="SET NULL")
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    mode: Mapped[str] = mapped_column(String(10), server_default="hybrid")
    filters: Mapped[dict[str, Any]] = json_object()
    top_k: Mapped[int] = mapped_column(server_default=sql_text("10"))
    similarity_threshold: Mapped[float | None]
    latency_ms: Mapped[float | None]


class SearchResult(TenantOwned, Base):
    __tablename__ = "search_results"
    __table_args__ = (
        tenant_fk("query_id", "search_queries"),
        tenant_fk("embedding_id", "embeddings", ondelete="SET NULL"),
        tenant_fk("chunk_id", "chunks", ondelete="SET NULL"),
        CheckConstraint("rank > 0", name="rank_positive"),
        UniqueConstraint("tenant_id", "query_id", "rank"),
    )

    query_id: Mapped[uuid.UUID]
    embedding_id: Mapped[uuid.UUID | None]
    chunk_id: Mapped[uuid.UUID | None]
    similarity_score: Mapped[float]
    rank: Mapped[int]
