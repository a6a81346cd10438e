"""PERSONA (000), personas, persona_members, agents (001), agents (004), CustomAgent,
AgentComponent, ComponentConnection, ComponentTemplate, AgentTemplate (003),
AGENT_SKIN, SKIN_RATING (000)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Numeric,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from personae.db.base import (
    Base,
    Created,
    SoftDelete,
    TenantOwned,
    Timestamps,
    gin,
    json_array,
    json_object,
    live,
    one_of,
    searchable,
    tenant_fk,
)

MEMBER_ROLES = ("editor", "viewer")
DEFAULT_NEUROMODULATORS = (
    """'{"dopamine": 0.5, "serotonin": 0.5, "noradrenaline": 0.5, "acetylcholine": 0.5}'::jsonb"""
)


CLIENT_SAMPLING = ("persona", "client")
CLIENT_INSTRUCTIONS = ("append", "ignore")


class Persona(TenantOwned, Timestamps, SoftDelete, Base):
    __tablename__ = "personas"
    __table_args__ = (
        CheckConstraint("length(btrim(name)) > 0", name="name_not_empty"),
        Index("idx_personas_owner_id", "tenant_id", "owner_id"),
        live("uq_personas_tenant_name", "tenant_id", "name", unique=True),
        gin("personas", "search_tsv"),
        one_of("client_sampling", CLIENT_SAMPLING),
        one_of("client_instructions", CLIENT_INSTRUCTIONS),
    )

    name: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None]
    system_prompt: Mapped[str] = mapped_column(server_default="")
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    default_provider: Mapped[str] = mapped_column(String(50), server_default="openai")
    fallback_providers: Mapped[list[Any]] = json_array()
    neuromodulators: Mapped[dict[str, Any]] = mapped_column(
        server_default=text(DEFAULT_NEUROMODULATORS)
    )
    adaptation_state: Mapped[dict[str, Any]] = json_object()
    metadata_: Mapped[dict[str, Any]] = json_object("metadata")
    is_active: Mapped[bool] = mapped_column(server_default=text("true"))
    container_id: Mapped[str | None] = mapped_column(String(255))
    client_sampling: Mapped[str] = mapped_column(String(20), server_default="persona")
    """Whose sampling parameters a front-door turn uses: `persona` (its neuromodulators')
    or `client` (an OpenAI client's, where it sends them)."""
    client_instructions: Mapped[str] = mapped_column(String(20), server_default="append")
    """An OpenAI client's system messages: `append`ed to the persona's prompt, or `ignore`d."""
    search_tsv: Mapped[Any] = searchable("name", "description")


class PersonaMember(TenantOwned, Created, Base):
    """persona_members (001): sharing a persona as editor or viewer."""

    __tablename__ = "persona_members"
    __table_args__ = (
        tenant_fk("persona_id", "personas"),
        one_of("role", MEMBER_ROLES),
        UniqueConstraint("tenant_id", "persona_id", "user_id"),
        Index("idx_persona_members_user_id", "user_id"),
    )

    persona_id: Mapped[uuid.UUID]
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(50), server_default="editor")


class Agent(TenantOwned, Timestamps, SoftDelete, Base):
    """agents (001, 004), CustomAgent (003): an agent, optionally within a persona."""

    __tablename__ = "agents"
    __table_args__ = (
        tenant_fk("persona_id", "personas"),
        live("uq_agents_tenant_name", "tenant_id", "name", unique=True),
        live("idx_agents_tenant", "tenant_id"),
        Index("idx_agents_persona_id", "tenant_id", "persona_id"),
    )

    persona_id: Mapped[uuid.UUID | None]
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None]
    system_prompt_override: Mapped[str | None]
    preferred_provider: Mapped[str | None] = mapped_column(String(50))
    default_model: Mapped[str | None] = mapped_column(String(100))
    fallback_models: Mapped[list[Any]] = json_array()
    tool_permissions: Mapped[list[Any] | None]
    configuration: Mapped[dict[str, Any]] = json_object()
    metadata_: Mapped[dict[str, Any]] = json_object("metadata")
    is_active: Mapped[bool] = mapped_column(server_default=text("true"))


class AgentComponent(TenantOwned, Timestamps, Base):
    """AgentComponent (003): a node of an agent's graph."""

    __tablename__ = "agent_components"
    __table_args__ = (
        tenant_fk("agent_id", "agents"),
        tenant_fk("template_id", "component_templates", ondelete="SET NULL"),
        Index("ix_agent_components_agent_id", "tenant_id", "agent_id"),
    )

    agent_id: Mapped[uuid.UUID]
    template_id: Mapped[uuid.UUID | None]
    name: Mapped[str | None] = mapped_column(String(255))
    component_type: Mapped[str] = mapped_column(String(100))
    configuration: Mapped[dict[str, Any]] = json_object()
    metadata_: Mapped[dict[str, Any]] = json_object("metadata")


class ComponentConnection(TenantOwned, Created, Base):
    """ComponentConnection (003): an edge between two components of one agent."""

    __tablename__ = "component_connections"
    __table_args__ = (
        tenant_fk("source_component_id", "agent_components"),
        tenant_fk("target_component_id", "agent_components"),
        CheckConstraint("source_component_id <> target_component_id", name="no_self_loop"),
        UniqueConstraint(
            "tenant_id", "source_component_id", "target_component_id", "connection_type"
        ),
        Index("ix_component_connections_target", "tenant_id", "target_component_id"),
    )

    source_component_id: Mapped[uuid.UUID]
    target_component_id: Mapped[uuid.UUID]
    connection_type: Mapped[str] = mapped_column(String(100), server_default="default")
    metadata_: Mapped[dict[str, Any]] = json_object("metadata")


class ComponentTemplate(TenantOwned, Timestamps, Base):
    """ComponentTemplate (003)."""

    __tablename__ = "component_templates"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None]
    component_type: Mapped[str] = mapped_column(String(100))
    configuration_schema: Mapped[dict[str, Any]] = json_object()
    default_configuration: Mapped[dict[str, Any]] = json_object()


class AgentTemplate(TenantOwned, Timestamps, Base):
    """AgentTemplate (003): components and connections to instantiate an agent from."""

    __tablename__ = "agent_templates"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None]
    components: Mapped[list[Any]] = json_array()
    connections: Mapped[list[Any]] = json_array()
    metadata_: Mapped[dict[str, Any]] = json_object("metadata")


class AgentSkin(TenantOwned, Timestamps, Base):
    """AGENT_SKIN (000): a theme (variables) for an agent's UI."""

    __tablename__ = "agent_skins"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        CheckConstraint("rating >= 0 AND rating <= 5", name="rating_range"),
        CheckConstraint("downloads >= 0", name="downloads_nonnegative"),
        Index("ix_agent_skins_tags", "tags", postgresql_using="gin"),
    )

    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None]
    version: Mapped[str] = mapped_column(String(50), server_default="1.0.0")
    author: Mapped[str | None] = mapped_column(String(255))
    license: Mapped[str | None] = mapped_column(String(100))
    tags: Mapped[list[str]] = mapped_column(server_default=text("'{}'::text[]"))
    variables: Mapped[dict[str, Any]] = json_object()
    preview_url: Mapped[str | None]
    downloads: Mapped[int] = mapped_column(server_default=text("0"))
    rating: Mapped[Decimal] = mapped_column(Numeric(3, 2), server_default=text("0"))
    active: Mapped[bool] = mapped_column(server_default=text("true"))


class SkinRating(TenantOwned, Created, Base):
    """SKIN_RATING (000): one rating per user per skin."""

    __tablename__ = "skin_ratings"
    __table_args__ = (
        tenant_fk("skin_id", "agent_skins"),
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
        UniqueConstraint("tenant_id", "skin_id", "user_id"),
    )

    skin_id: Mapped[uuid.UUID]
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    rating: Mapped[int]
    review: Mapped[str | None]
