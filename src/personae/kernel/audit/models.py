"""audit_events (001, 004), AUDIT_LOGS (002), TOOL_AUDIT (000): one append-only log.

Audit rows name the resources they speak of by id but hold no foreign keys to them:
the trail outlives what it records (erasure leaves an audit event saying what went)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Identity, Index, String, text
from sqlalchemy.dialects.postgresql import INET
from sqlalchemy.orm import Mapped, mapped_column

from personae.db.base import Base, TenantKey, created_at, json_object, one_of

EVENT_CATEGORIES = ("action", "access", "error", "system")
ACTOR_TYPES = ("user", "token", "system", "agent")


class AuditEvent(TenantKey, Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        one_of("event_category", EVENT_CATEGORIES),
        one_of("actor_type", ACTOR_TYPES),
        Index("idx_audit_events_user_id", "tenant_id", "user_id"),
        Index("idx_audit_events_persona_id", "tenant_id", "persona_id", "created_at"),
        Index("idx_audit_events_run_id", "tenant_id", "run_id"),
        Index("idx_audit_events_type", "tenant_id", "event_type"),
        Index("idx_audit_events_created", "tenant_id", text("created_at DESC")),
        Index(
            "idx_audit_events_session",
            "tenant_id",
            "session_id",
            postgresql_where=text("session_id IS NOT NULL"),
        ),
        Index("idx_audit_events_trace_id", "trace_id"),
        Index("ix_audit_events_resource", "tenant_id", "resource_type", "resource_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(100))
    event_category: Mapped[str] = mapped_column(String(50), server_default="action")
    action: Mapped[str] = mapped_column(String(50))
    actor_type: Mapped[str] = mapped_column(String(20), server_default="system")
    actor_id: Mapped[uuid.UUID | None]
    user_id: Mapped[uuid.UUID | None]
    resource_type: Mapped[str | None] = mapped_column(String(100))
    resource_id: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(server_default="")
    result: Mapped[str | None] = mapped_column(String(50))
    event_data: Mapped[dict[str, Any]] = json_object()
    persona_id: Mapped[uuid.UUID | None]
    session_id: Mapped[uuid.UUID | None]
    run_id: Mapped[uuid.UUID | None]
    turn_id: Mapped[uuid.UUID | None]
    execution_id: Mapped[uuid.UUID | None]
    trace_id: Mapped[str | None] = mapped_column(String(255))
    ip_address: Mapped[str | None] = mapped_column(INET)
    user_agent: Mapped[str | None]
    created_at: Mapped[datetime] = created_at()
