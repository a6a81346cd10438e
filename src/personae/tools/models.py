"""TOOL, TOOL_EXECUTION, DEAD_LETTER_QUEUE, CAPSULE, CAPSULE_DEPENDENCY, PROMPT_TEMPLATE (000),
tools, persona_tools, tool_runs, tool_dependencies (001)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, get_args

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from personae.db.base import (
    Base,
    Created,
    SoftDelete,
    TenantOwned,
    Timestamps,
    gin,
    hnsw,
    json_array,
    json_object,
    live,
    one_of,
    searchable,
    tenant_fk,
)
from personae.db.types import EMBEDDING_DIMS, Vector

CODE_TYPES = ("builtin", "python", "http", "javascript")
DEPENDENCY_TYPES = ("requires", "recommends", "optional")
ExecutionStatus = Literal[
    "pending",
    "awaiting_approval",
    "running",
    "succeeded",
    "failed",
    "denied",
    "cancelled",
    "timed_out",
]
EXECUTION_STATUSES: tuple[str, ...] = get_args(ExecutionStatus)


class Capsule(TenantOwned, Timestamps, Base):
    """CAPSULE (000): a plugin with a manifest of tools, prompt templates and dependencies."""

    __tablename__ = "capsules"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        CheckConstraint("rating IS NULL OR (rating >= 0 AND rating <= 5)", name="rating_range"),
    )

    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None]
    version: Mapped[str] = mapped_column(String(50))
    author: Mapped[str | None] = mapped_column(String(255))
    category: Mapped[str | None] = mapped_column(String(100))
    manifest: Mapped[dict[str, Any]] = json_object()
    installed: Mapped[bool] = mapped_column(server_default=text("false"))
    downloads: Mapped[int] = mapped_column(server_default=text("0"))
    rating: Mapped[Decimal | None] = mapped_column(Numeric(3, 2))


class CapsuleDependency(TenantOwned, Created, Base):
    """CAPSULE_DEPENDENCY (000): a capsule requires another by name and version constraint."""

    __tablename__ = "capsule_dependencies"
    __table_args__ = (
        tenant_fk("capsule_id", "capsules"),
        tenant_fk("depends_on_id", "capsules", ondelete="SET NULL"),
        UniqueConstraint("tenant_id", "capsule_id", "depends_on_name"),
        Index("ix_capsule_dependencies_depends_on", "tenant_id", "depends_on_id"),
    )

    capsule_id: Mapped[uuid.UUID]
    depends_on_name: Mapped[str] = mapped_column(String(255))
    depends_on_id: Mapped[uuid.UUID | None]
    version_constraint: Mapped[str] = mapped_column(String(100), server_default="*")


class PromptTemplate(TenantOwned, Timestamps, Base):
    """PROMPT_TEMPLATE (000): a template with declared variables, from a capsule or not."""

    __tablename__ = "prompt_templates"
    __table_args__ = (
        tenant_fk("capsule_id", "capsules"),
        Index(
            "uq_prompt_templates_name",
            "tenant_id",
            "capsule_id",
            "template_name",
            unique=True,
            postgresql_nulls_not_distinct=True,
        ),
    )

    capsule_id: Mapped[uuid.UUID | None]
    template_name: Mapped[str] = mapped_column(String(255))
    template_content: Mapped[str]
    variables: Mapped[list[Any]] = json_array()


class Tool(TenantOwned, Timestamps, SoftDelete, Base):
    """TOOL (000), tools (001). Built-in tools are defined in code and registered in every
    tenant through the same path as plugins (`is_builtin`)."""

    __tablename__ = "tools"
    __table_args__ = (
        tenant_fk("capsule_id", "capsules"),
        one_of("code_type", CODE_TYPES),
        live("idx_tools_name", "tenant_id", "name", unique=True),
        Index("idx_tools_category", "tenant_id", "category"),
        hnsw("tools", "description_embedding"),
        gin("tools", "description_tsv"),
    )

    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str]
    category: Mapped[str | None] = mapped_column(String(100))
    schema: Mapped[dict[str, Any]]
    code: Mapped[str | None]
    code_type: Mapped[str] = mapped_column(String(50), server_default="python")
    endpoint: Mapped[str | None]
    file_path: Mapped[str | None]
    class_name: Mapped[str | None] = mapped_column(String(255))
    capsule_id: Mapped[uuid.UUID | None]
    is_builtin: Mapped[bool] = mapped_column(server_default=text("false"))
    enabled: Mapped[bool] = mapped_column(server_default=text("true"))
    requires_approval: Mapped[bool] = mapped_column(server_default=text("false"))
    settings: Mapped[dict[str, Any]] = json_object()
    description_embedding: Mapped[Any | None] = mapped_column(Vector(EMBEDDING_DIMS))
    embedding_model: Mapped[str | None] = mapped_column(String(100))
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    description_tsv: Mapped[Any] = searchable("name", "description")


class PersonaTool(TenantOwned, Created, Base):
    """persona_tools (001): which tools a persona may use."""

    __tablename__ = "persona_tools"
    __table_args__ = (
        tenant_fk("persona_id", "personas"),
        tenant_fk("tool_id", "tools"),
        UniqueConstraint("tenant_id", "persona_id", "tool_id"),
        Index("idx_persona_tools_tool_id", "tenant_id", "tool_id"),
    )

    persona_id: Mapped[uuid.UUID]
    tool_id: Mapped[uuid.UUID]
    is_enabled: Mapped[bool] = mapped_column(server_default=text("true"))
    config: Mapped[dict[str, Any] | None]


class ToolDependency(TenantOwned, Created, Base):
    """tool_dependencies (001): requires / recommends / optional; cycles refused on write."""

    __tablename__ = "tool_dependencies"
    __table_args__ = (
        tenant_fk("tool_id", "tools"),
        tenant_fk("depends_on_tool_id", "tools"),
        one_of("dependency_type", DEPENDENCY_TYPES),
        CheckConstraint("tool_id <> depends_on_tool_id", name="no_self_dependency"),
        UniqueConstraint("tenant_id", "tool_id", "depends_on_tool_id"),
        Index("idx_tool_dependencies_depends_on", "tenant_id", "depends_on_tool_id"),
    )

    tool_id: Mapped[uuid.UUID]
    depends_on_tool_id: Mapped[uuid.UUID]
    dependency_type: Mapped[str] = mapped_column(String(50), server_default="requires")


class ToolExecution(TenantOwned, Created, Base):
    """TOOL_EXECUTION (000), tool_runs (001): one call of a tool, with its outcome."""

    __tablename__ = "tool_executions"
    __table_args__ = (
        tenant_fk("tool_id", "tools", ondelete="SET NULL"),
        tenant_fk("run_id", "runs"),
        tenant_fk("run_step_id", "run_steps", ondelete="SET NULL"),
        tenant_fk("session_id", "sessions"),
        tenant_fk("persona_id", "personas", ondelete="SET NULL"),
        one_of("status", EXECUTION_STATUSES),
        CheckConstraint("duration_ms IS NULL OR duration_ms >= 0", name="duration_nonnegative"),
        Index("idx_tool_runs_tool_id", "tenant_id", "tool_id"),
        Index("idx_tool_runs_run_id", "tenant_id", "run_id"),
        Index("idx_tool_runs_created_at", "tenant_id", "created_at"),
        Index("ix_tool_executions_trace_id", "trace_id"),
        Index("ix_tool_executions_status", "tenant_id", "status"),
    )

    tool_id: Mapped[uuid.UUID | None]
    tool_name: Mapped[str] = mapped_column(String(255))
    run_id: Mapped[uuid.UUID | None]
    run_step_id: Mapped[uuid.UUID | None]
    session_id: Mapped[uuid.UUID | None]
    persona_id: Mapped[uuid.UUID | None]
    trace_id: Mapped[str | None] = mapped_column(String(255))
    arguments: Mapped[dict[str, Any]] = json_object()
    result: Mapped[dict[str, Any] | None]
    error: Mapped[str | None]
    status: Mapped[str] = mapped_column(String(30), server_default="pending")
    attempt: Mapped[int] = mapped_column(server_default=text("1"))
    duration_ms: Mapped[int | None]
    approved_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    approved_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]


class DeadLetter(TenantOwned, Created, Base):
    """DEAD_LETTER_QUEUE (000): work whose retries ran out, kept for inspection and replay."""

    __tablename__ = "dead_letters"
    __table_args__ = (
        tenant_fk("execution_id", "tool_executions", ondelete="SET NULL"),
        CheckConstraint("retry_count >= 0", name="retry_count_nonnegative"),
        Index(
            "ix_dead_letters_open",
            "tenant_id",
            "topic",
            "created_at",
            postgresql_where=text("resolved_at IS NULL"),
        ),
    )

    topic: Mapped[str] = mapped_column(String(255))
    payload: Mapped[dict[str, Any]]
    error_message: Mapped[str | None]
    retry_count: Mapped[int] = mapped_column(server_default=text("0"))
    execution_id: Mapped[uuid.UUID | None]
    last_retry_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
