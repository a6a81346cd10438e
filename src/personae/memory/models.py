"""MEMORY (000), episodes, entities, relationships (004), ENTITIES, RELATIONSHIPS, ENTITY_TYPES,
RELATIONSHIP_TYPES, ENTITY_MENTIONS, ENTITY_DOCUMENT_ASSOCIATIONS (002).

Bi-temporal: `valid_from`/`valid_to` is when a fact held in the world (event time);
`recorded_at`/`expired_at` is when we believed it (system time). Facts are closed, never
overwritten."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from personae.db.base import (
    Base,
    Created,
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

EPISODE_TYPES = ("TURN", "SUMMARY", "FACT", "EVENT", "NOTE")
EMBEDDING_STATUSES = ("pending", "embedded", "failed")
VALIDITY_ORDER = "valid_to IS NULL OR valid_to > valid_from"
KNOWLEDGE_ORDER = "expired_at IS NULL OR expired_at >= recorded_at"


def _now() -> Any:
    return mapped_column(server_default=text("now()"))


class Episode(TenantOwned, Base):
    """A unit of memory: a turn, summary, fact, event or note; `importance` is salience."""

    __tablename__ = "episodes"
    __table_args__ = (
        tenant_fk("persona_id", "personas"),
        tenant_fk("agent_id", "agents"),
        tenant_fk("customer_profile_id", "customer_profiles"),
        tenant_fk("session_id", "sessions"),
        one_of("episode_type", EPISODE_TYPES),
        one_of("embedding_status", EMBEDDING_STATUSES),
        CheckConstraint("importance >= 0 AND importance <= 1", name="importance_range"),
        CheckConstraint(VALIDITY_ORDER, name="validity_ordered"),
        Index("idx_episodes_tenant_agent", "tenant_id", "agent_id"),
        Index("ix_episodes_persona", "tenant_id", "persona_id", "occurred_at"),
        Index(
            "idx_episodes_customer",
            "tenant_id",
            "customer_profile_id",
            postgresql_where=text("customer_profile_id IS NOT NULL"),
        ),
        Index(
            "idx_episodes_session",
            "tenant_id",
            "session_id",
            postgresql_where=text("session_id IS NOT NULL"),
        ),
        Index(
            "idx_episodes_group",
            "tenant_id",
            "group_id",
            postgresql_where=text("group_id IS NOT NULL"),
        ),
        Index("idx_episodes_valid", "tenant_id", "valid_from", "valid_to"),
        Index(
            "uq_episodes_turn_source",
            "tenant_id",
            "session_id",
            text("(source_event_ids[1])"),
            unique=True,
            postgresql_where=text("episode_type = 'TURN'"),
        ),
        Index(
            "ix_episodes_unembedded",
            "tenant_id",
            "id",
            postgresql_where=text("embedding_status <> 'embedded'"),
        ),
        hnsw("episodes", "embedding"),
        gin("episodes", "content_tsv"),
    )

    persona_id: Mapped[uuid.UUID | None]
    agent_id: Mapped[uuid.UUID | None]
    customer_profile_id: Mapped[uuid.UUID | None]
    session_id: Mapped[uuid.UUID | None]
    group_id: Mapped[uuid.UUID | None]
    episode_type: Mapped[str] = mapped_column(String(50))
    content: Mapped[str]
    embedding: Mapped[Any | None] = mapped_column(Vector(EMBEDDING_DIMS))
    embedding_model: Mapped[str | None] = mapped_column(String(100))
    embedding_status: Mapped[str] = mapped_column(String(20), server_default="pending")
    importance: Mapped[float] = mapped_column(server_default=text("0.5"))
    occurred_at: Mapped[datetime] = _now()
    valid_from: Mapped[datetime] = _now()
    valid_to: Mapped[datetime | None]
    recorded_at: Mapped[datetime] = _now()
    expired_at: Mapped[datetime | None]
    source_event_ids: Mapped[list[int]] = mapped_column(server_default=text("'{}'::bigint[]"))
    metadata_: Mapped[dict[str, Any]] = json_object("metadata")
    content_tsv: Mapped[Any] = searchable("content")


class EntityType(TenantOwned, Created, Base):
    __tablename__ = "entity_types"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None]
    attributes_schema: Mapped[dict[str, Any]] = json_object()


class RelationshipType(TenantOwned, Created, Base):
    """An exclusive type allows one current fact per subject (a new one closes the old)."""

    __tablename__ = "relationship_types"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None]
    inverse_name: Mapped[str | None] = mapped_column(String(100))
    is_exclusive: Mapped[bool] = mapped_column(server_default=text("false"))


class Entity(TenantOwned, Timestamps, Base):
    __tablename__ = "entities"
    __table_args__ = (
        tenant_fk("entity_type_id", "entity_types", ondelete="SET NULL"),
        tenant_fk("persona_id", "personas"),
        tenant_fk("agent_id", "agents"),
        tenant_fk("customer_profile_id", "customer_profiles"),
        CheckConstraint(VALIDITY_ORDER, name="validity_ordered"),
        CheckConstraint(KNOWLEDGE_ORDER, name="knowledge_ordered"),
        Index("idx_entities_tenant_agent", "tenant_id", "agent_id"),
        Index("idx_entities_name", "tenant_id", "name"),
        Index("idx_entities_type", "tenant_id", "entity_type"),
        Index("ix_entities_aliases", "aliases", postgresql_using="gin"),
        Index("ix_entities_folded_name", "tenant_id", text("lower(name)")),
        Index(
            "ix_entities_folded_canonical",
            "tenant_id",
            text("lower(canonical_name)"),
            postgresql_where=text("canonical_name IS NOT NULL"),
        ),
        Index(
            "ix_entities_folded_aliases",
            text("personae_folded(aliases)"),
            postgresql_using="gin",
        ),
        Index("ix_entities_learned", "tenant_id", postgresql_where=text("learned")),
        hnsw("entities", "name_embedding"),
        gin("entities", "name_tsv"),
    )

    persona_id: Mapped[uuid.UUID | None]
    agent_id: Mapped[uuid.UUID | None]
    customer_profile_id: Mapped[uuid.UUID | None]
    name: Mapped[str] = mapped_column(String(500))
    entity_type: Mapped[str] = mapped_column(String(100))
    entity_type_id: Mapped[uuid.UUID | None]
    canonical_name: Mapped[str | None] = mapped_column(String(500))
    aliases: Mapped[list[str]] = mapped_column(server_default=text("'{}'::text[]"))
    attributes: Mapped[dict[str, Any]] = json_object()
    name_embedding: Mapped[Any | None] = mapped_column(Vector(EMBEDDING_DIMS))
    embedding_model: Mapped[str | None] = mapped_column(String(100))
    valid_from: Mapped[datetime] = _now()
    valid_to: Mapped[datetime | None]
    recorded_at: Mapped[datetime] = _now()
    expired_at: Mapped[datetime | None]
    learned: Mapped[bool] = mapped_column(server_default=text("false"))
    """Made by memory (a fact, an extraction), not a user: it goes when its episodes are
    erased and nothing names it any more (`db/sql/forget_support.sql`)."""
    name_tsv: Mapped[Any] = searchable("name", "canonical_name")


class Relationship(TenantOwned, Base):
    """A fact: subject -type-> object, valid in event time and known in system time."""

    __tablename__ = "relationships"
    __table_args__ = (
        tenant_fk("source_entity_id", "entities"),
        tenant_fk("target_entity_id", "entities"),
        tenant_fk("relationship_type_id", "relationship_types", ondelete="SET NULL"),
        CheckConstraint("confidence >= 0 AND confidence <= 1", name="confidence_range"),
        CheckConstraint(VALIDITY_ORDER, name="validity_ordered"),
        CheckConstraint(KNOWLEDGE_ORDER, name="knowledge_ordered"),
        UniqueConstraint(
            "tenant_id",
            "source_entity_id",
            "target_entity_id",
            "relationship_type",
            "valid_from",
            "recorded_at",
            name="uq_relationships",
        ),
        Index("idx_relationships_source", "tenant_id", "source_entity_id", "relationship_type"),
        Index("idx_relationships_target", "tenant_id", "target_entity_id"),
        Index("idx_relationships_type", "tenant_id", "relationship_type"),
        Index("ix_relationships_support", "source_episode_ids", postgresql_using="gin"),
        hnsw("relationships", "fact_embedding"),
        gin("relationships", "fact_tsv"),
        # room beside each row: a fact cut short is expired in place (migration 0030)
        {"postgresql_with": {"fillfactor": 70}},
    )

    source_entity_id: Mapped[uuid.UUID]
    target_entity_id: Mapped[uuid.UUID]
    relationship_type: Mapped[str] = mapped_column(String(100))
    relationship_type_id: Mapped[uuid.UUID | None]
    fact: Mapped[str | None]
    fact_embedding: Mapped[Any | None] = mapped_column(Vector(EMBEDDING_DIMS))
    embedding_model: Mapped[str | None] = mapped_column(String(100))
    confidence: Mapped[float] = mapped_column(server_default=text("1.0"))
    valid_from: Mapped[datetime] = _now()
    valid_to: Mapped[datetime | None]
    recorded_at: Mapped[datetime] = _now()
    expired_at: Mapped[datetime | None]
    source_episode_ids: Mapped[list[uuid.UUID]] = mapped_column(server_default=text("'{}'::uuid[]"))
    metadata_: Mapped[dict[str, Any]] = json_object("metadata")
    fact_tsv: Mapped[Any] = searchable("relationship_type", "fact")


class EntityMention(TenantOwned, Created, Base):
    """ENTITY_MENTIONS (002): an entity named in an episode, a chunk or a document."""

    __tablename__ = "entity_mentions"
    __table_args__ = (
        tenant_fk("entity_id", "entities"),
        tenant_fk("episode_id", "episodes"),
        tenant_fk("chunk_id", "chunks"),
        tenant_fk("document_id", "documents"),
        CheckConstraint(
            "num_nonnulls(episode_id, chunk_id, document_id) >= 1", name="mentions_something"
        ),
        Index("ix_entity_mentions_entity", "tenant_id", "entity_id"),
        Index("ix_entity_mentions_episode", "tenant_id", "episode_id"),
        Index("ix_entity_mentions_chunk", "tenant_id", "chunk_id"),
        Index("ix_entity_mentions_document", "tenant_id", "document_id"),
    )

    entity_id: Mapped[uuid.UUID]
    episode_id: Mapped[uuid.UUID | None]
    chunk_id: Mapped[uuid.UUID | None]
    document_id: Mapped[uuid.UUID | None]
    mention_text: Mapped[str | None]
    start_offset: Mapped[int | None]
    end_offset: Mapped[int | None]
    confidence: Mapped[float] = mapped_column(server_default=text("1.0"))


class EntityDocumentAssociation(TenantKey, Created, Base):
    __tablename__ = "entity_document_associations"
    __table_args__ = (
        tenant_fk("entity_id", "entities"),
        tenant_fk("document_id", "documents"),
        Index("ix_entity_document_associations_document", "tenant_id", "document_id"),
    )

    entity_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    document_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    relevance: Mapped[float] = mapped_column(server_default=text("1.0"))
