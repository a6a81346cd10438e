"""SESSION, SESSION_ENVELOPE, SESSION_EVENT, ATTACHMENT (000), Conversation, Message (003),
Redis session JSON, turn_records (004), runs, run_steps, attachments (001)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Identity,
    Index,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from personae.db.base import (
    Base,
    Created,
    SoftDelete,
    TenantKey,
    TenantOwned,
    Timestamps,
    created_at,
    gin,
    json_array,
    json_object,
    one_of,
    searchable,
    tenant_fk,
    tenant_through_parent,
)

SESSION_STATUSES = ("ACTIVE", "IDLE", "CLOSED", "ARCHIVED")
MESSAGE_ROLES = ("system", "user", "assistant", "tool")
RunStatus = Literal["pending", "running", "completed", "failed", "cancelled", "requires_action"]
RUN_STATUSES: tuple[str, ...] = get_args(RunStatus)
STEP_TYPES = (
    "llm_call",
    "tool_call",
    "rag_retrieval",
    "memory_retrieval",
    "rule_match",
    "prompt_assembly",
    "message",
    "error",
    "template",
    "guard",
    "rule_verification",
)
ATTACHMENT_STATUSES = ("pending", "clean", "quarantined")


class Session(TenantOwned, Timestamps, SoftDelete, Base):
    """A conversation: the envelope derived from its event log."""

    __tablename__ = "sessions"
    __table_args__ = (
        tenant_fk("persona_id", "personas"),
        tenant_fk("agent_id", "agents", ondelete="SET NULL"),
        tenant_fk("customer_profile_id", "customer_profiles"),
        one_of("status", SESSION_STATUSES),
        CheckConstraint("last_seq >= 0", name="last_seq_nonnegative"),
        Index("ix_sessions_persona", "tenant_id", "persona_id"),
        Index("ix_sessions_agent", "tenant_id", "agent_id"),
        Index("ix_sessions_customer", "tenant_id", "customer_profile_id"),
        Index("ix_sessions_channel", "tenant_id", "channel", "user_channel_id"),
        Index("ix_sessions_activity", "tenant_id", text("last_activity_at DESC")),
    )

    persona_id: Mapped[uuid.UUID | None]
    agent_id: Mapped[uuid.UUID | None]
    customer_profile_id: Mapped[uuid.UUID | None]
    user_id: Mapped[str | None] = mapped_column(String(255))
    channel: Mapped[str] = mapped_column(String(50), server_default="API")
    user_channel_id: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20), server_default="ACTIVE")
    title: Mapped[str | None] = mapped_column(String(500))
    variables: Mapped[dict[str, Any]] = json_object()
    active_scenario_id: Mapped[uuid.UUID | None]
    active_scenario_version: Mapped[int | None]
    current_step_id: Mapped[str | None] = mapped_column(String(255))
    step_history: Mapped[list[Any]] = json_array()
    pending_migration: Mapped[dict[str, Any] | None]
    metadata_: Mapped[dict[str, Any]] = json_object("metadata")
    last_seq: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    last_activity_at: Mapped[datetime] = mapped_column(server_default=text("now()"))


class SessionEvent(TenantKey, Base):
    """The truth of a session: append-only, `seq` gap-free per session."""

    __tablename__ = "session_events"
    __table_args__ = (
        tenant_fk("session_id", "sessions"),
        CheckConstraint("seq > 0", name="seq_positive"),
        CheckConstraint(r"event_type ~ '^[a-z][a-z_]*(\.[a-z][a-z_]*)*$'", name="event_type_form"),
        UniqueConstraint("tenant_id", "session_id", "seq"),
        Index(
            "uq_session_events_idempotency",
            "tenant_id",
            "session_id",
            "idempotency_key",
            "idempotency_index",
            unique=True,
            postgresql_where=text("idempotency_key IS NOT NULL"),
        ),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_through_parent()
    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    session_id: Mapped[uuid.UUID]
    seq: Mapped[int] = mapped_column(BigInteger)
    event_type: Mapped[str] = mapped_column(String(100))
    schema_version: Mapped[int] = mapped_column(server_default=text("1"))
    payload: Mapped[dict[str, Any]] = json_object()
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    idempotency_index: Mapped[int | None]
    """The event's place in its idempotent batch (1, 2, ...), kept apart from the key."""
    trace_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = created_at()


class Message(TenantOwned, Created, Base):
    """Message (003): a chat message, derived from its session event (`event_id`; written
    with it, erased with the session; no foreign key, see migration 0009)."""

    __tablename__ = "messages"
    __table_args__ = (
        tenant_fk("session_id", "sessions"),
        one_of("role", MESSAGE_ROLES),
        UniqueConstraint("tenant_id", "session_id", "seq"),
        gin("messages", "content_tsv"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_through_parent()
    session_id: Mapped[uuid.UUID]
    event_id: Mapped[int] = mapped_column(BigInteger)
    seq: Mapped[int] = mapped_column(BigInteger)
    role: Mapped[str] = mapped_column(String(20))
    content: Mapped[str] = mapped_column(server_default="")
    tool_calls: Mapped[list[Any] | None]
    tool_call_id: Mapped[str | None] = mapped_column(String(255))
    metadata_: Mapped[dict[str, Any]] = json_object("metadata")
    content_tsv: Mapped[Any] = searchable("content")


class Run(TenantOwned, Base):
    """runs (001): one execution of an agent, traced by `trace_id`."""

    __tablename__ = "runs"
    __table_args__ = (
        tenant_fk("agent_id", "agents", ondelete="SET NULL"),
        tenant_fk("persona_id", "personas"),
        tenant_fk("session_id", "sessions", ondelete="SET NULL"),
        one_of("status", RUN_STATUSES),
        UniqueConstraint("tenant_id", "trace_id"),
        Index("idx_runs_persona_id", "tenant_id", "persona_id"),
        Index("idx_runs_user_id", "user_id"),
        Index("idx_runs_status", "tenant_id", "status"),
        Index("idx_runs_created_at", "tenant_id", "created_at"),
        Index("ix_runs_session", "tenant_id", "session_id"),
    )

    agent_id: Mapped[uuid.UUID | None]
    persona_id: Mapped[uuid.UUID | None]
    session_id: Mapped[uuid.UUID | None]
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    trace_id: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(50), server_default="pending")
    input: Mapped[str]
    output: Mapped[str | None]
    error_message: Mapped[str | None]
    token_usage: Mapped[dict[str, Any]] = json_object()
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at()


class RunStep(TenantOwned, Created, Base):
    """run_steps (001): one step of a run, with its duration."""

    __tablename__ = "run_steps"
    __table_args__ = (
        tenant_fk("run_id", "runs"),
        tenant_fk("tool_id", "tools", ondelete="SET NULL"),
        one_of("step_type", STEP_TYPES),
        UniqueConstraint("tenant_id", "run_id", "step_number", name="idx_run_steps_step_number"),
        CheckConstraint("duration_ms IS NULL OR duration_ms >= 0", name="duration_nonnegative"),
    )

    run_id: Mapped[uuid.UUID]
    step_number: Mapped[int]
    step_type: Mapped[str] = mapped_column(String(50))
    tool_id: Mapped[uuid.UUID | None]
    input: Mapped[dict[str, Any] | None]
    output: Mapped[dict[str, Any] | None]
    duration_ms: Mapped[int | None]


class TurnRecord(TenantOwned, Created, Base):
    """turn_records (004): what happened in one completed turn."""

    __tablename__ = "turn_records"
    __table_args__ = (
        tenant_fk("session_id", "sessions"),
        tenant_fk("run_id", "runs", ondelete="SET NULL"),
        UniqueConstraint("tenant_id", "session_id", "turn_number"),
        Index("idx_turn_records_created", "tenant_id", text("created_at DESC")),
    )

    session_id: Mapped[uuid.UUID]
    run_id: Mapped[uuid.UUID | None]
    turn_number: Mapped[int]
    user_message: Mapped[str]
    assistant_response: Mapped[str | None]
    context_extracted: Mapped[dict[str, Any] | None]
    rules_matched: Mapped[list[Any]] = json_array()
    scenario_state: Mapped[dict[str, Any] | None]
    tools_executed: Mapped[list[Any]] = json_array()
    token_usage: Mapped[dict[str, Any] | None]
    latency_ms: Mapped[int | None]


class Attachment(TenantOwned, Created, Base):
    """ATTACHMENT (000), attachments (001): a file of a session, email or run.

    The bytes live in `storage_objects`; a quarantined file is not served."""

    __tablename__ = "attachments"
    __table_args__ = (
        tenant_fk("session_id", "sessions"),
        tenant_fk("persona_id", "personas"),
        tenant_fk("email_id", "emails"),
        tenant_fk("run_id", "runs", ondelete="SET NULL"),
        tenant_fk("storage_object_id", "storage_objects", ondelete="RESTRICT"),
        one_of("status", ATTACHMENT_STATUSES),
        CheckConstraint("size >= 0", name="size_nonnegative"),
        CheckConstraint(
            "status <> 'quarantined' OR quarantine_reason IS NOT NULL", name="quarantine_has_reason"
        ),
        Index("ix_attachments_session", "tenant_id", "session_id"),
        Index("idx_attachments_email_id", "tenant_id", "email_id"),
        Index("idx_attachments_run_id", "tenant_id", "run_id"),
        Index("ix_attachments_sha256", "tenant_id", "sha256"),
    )

    session_id: Mapped[uuid.UUID | None]
    persona_id: Mapped[uuid.UUID | None]
    email_id: Mapped[uuid.UUID | None]
    run_id: Mapped[uuid.UUID | None]
    storage_object_id: Mapped[uuid.UUID | None]
    filename: Mapped[str] = mapped_column(String(255))
    mime_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), server_default="pending")
    quarantine_reason: Mapped[str | None]
    file_path: Mapped[str | None]
