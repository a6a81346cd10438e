"""TelemetrySession, TelemetryEvent (003), persona_health_metrics (001), SYSTEM_METRICS,
BUSINESS_METRICS, AGENT_METRICS, USER_ACTIVITY, EVENTS, ALERTS, ANOMALIES, FORECAST_MODELS,
FORECASTS (002).

The time series are partitioned by month on `time` (native range partitioning, with a
default partition); `personae_ensure_partitions()` creates the monthly partitions."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, text
from sqlalchemy.dialects.postgresql import INET
from sqlalchemy.orm import Mapped, mapped_column

from personae.db.base import (
    Base,
    Created,
    GlobalId,
    TenantOwned,
    Timestamps,
    json_object,
    one_of,
    tenant_fk,
)

SEVERITIES = ("debug", "info", "warning", "error", "critical")
ALERT_STATUSES = ("open", "acknowledged", "resolved", "suppressed")
BY_MONTH = {"postgresql_partition_by": "RANGE (time)"}

PARTITIONED_TABLES = (
    "system_metrics",
    "business_metrics",
    "agent_metrics",
    "user_activity",
    "events",
    "alerts",
    "anomalies",
    "forecasts",
)


class Timed:
    """The partition key, part of the primary key as PostgreSQL requires."""

    time: Mapped[datetime] = mapped_column(
        primary_key=True, server_default=text("now()"), sort_order=-18
    )


class TelemetrySession(TenantOwned, Created, Base):
    __tablename__ = "telemetry_sessions"
    __table_args__ = (
        tenant_fk("conversation_id", "sessions"),
        Index("ix_telemetry_sessions_conversation", "tenant_id", "conversation_id"),
        Index("ix_telemetry_sessions_session_key", "tenant_id", "session_id"),
    )

    session_id: Mapped[str] = mapped_column(String(255))
    conversation_id: Mapped[uuid.UUID | None]
    user_id: Mapped[str | None] = mapped_column(String(255))
    metadata_: Mapped[dict[str, Any]] = json_object("metadata")


class TelemetryEvent(TenantOwned, Created, Base):
    __tablename__ = "telemetry_events"
    __table_args__ = (
        tenant_fk("session_id", "telemetry_sessions"),
        Index("ix_telemetry_events_session", "tenant_id", "session_id", "created_at"),
        Index("ix_telemetry_events_type", "tenant_id", "event_type"),
    )

    session_id: Mapped[uuid.UUID]
    event_type: Mapped[str] = mapped_column(String(100))
    event_data: Mapped[dict[str, Any]] = json_object()


class PersonaHealthMetric(TenantOwned, Base):
    __tablename__ = "persona_health_metrics"
    __table_args__ = (
        tenant_fk("persona_id", "personas"),
        CheckConstraint("cpu_percent BETWEEN 0 AND 100", name="cpu_percent_range"),
        CheckConstraint("memory_percent BETWEEN 0 AND 100", name="memory_percent_range"),
        Index("idx_persona_health_persona_time", "tenant_id", "persona_id", "measured_at"),
        Index("idx_persona_health_measured_at", "measured_at"),
    )

    persona_id: Mapped[uuid.UUID]
    cpu_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    memory_mb: Mapped[int | None]
    memory_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    disk_usage_gb: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    llm_calls_count: Mapped[int] = mapped_column(server_default=text("0"))
    estimated_cost: Mapped[Decimal | None] = mapped_column(Numeric(10, 4))
    active_runs_count: Mapped[int] = mapped_column(server_default=text("0"))
    measured_at: Mapped[datetime] = mapped_column(server_default=text("now()"))


class SystemMetric(GlobalId, Timed, Base):
    """Host-level metrics, shared by the installation (global)."""

    __tablename__ = "system_metrics"
    __table_args__ = (Index("ix_system_metrics_name_time", "metric_name", "time"), BY_MONTH)

    host: Mapped[str] = mapped_column(String(255))
    metric_name: Mapped[str] = mapped_column(String(255))
    metric_value: Mapped[float]
    tags: Mapped[dict[str, Any]] = json_object()


class BusinessMetric(TenantOwned, Timed, Base):
    __tablename__ = "business_metrics"
    __table_args__ = (
        Index("ix_business_metrics_name_time", "tenant_id", "metric_name", "time"),
        BY_MONTH,
    )

    metric_name: Mapped[str] = mapped_column(String(255))
    metric_value: Mapped[float]
    dimensions: Mapped[dict[str, Any]] = json_object()


class AgentMetric(TenantOwned, Timed, Base):
    __tablename__ = "agent_metrics"
    __table_args__ = (
        Index("ix_agent_metrics_agent_time", "tenant_id", "agent_id", "metric_name", "time"),
        BY_MONTH,
    )

    agent_id: Mapped[uuid.UUID | None]
    execution_id: Mapped[uuid.UUID | None]
    metric_name: Mapped[str] = mapped_column(String(255))
    metric_value: Mapped[float]
    tags: Mapped[dict[str, Any]] = json_object()


class UserActivity(TenantOwned, Timed, Base):
    __tablename__ = "user_activity"
    __table_args__ = (
        Index("ix_user_activity_user_time", "tenant_id", "user_id", "time"),
        BY_MONTH,
    )

    user_id: Mapped[uuid.UUID | None]
    activity_type: Mapped[str] = mapped_column(String(100))
    details: Mapped[dict[str, Any]] = json_object()
    ip_address: Mapped[str | None] = mapped_column(INET)
    user_agent: Mapped[str | None]


class Event(TenantOwned, Timed, Base):
    __tablename__ = "events"
    __table_args__ = (
        one_of("severity", SEVERITIES),
        Index("ix_events_type_time", "tenant_id", "event_type", "time"),
        Index("ix_events_entity", "tenant_id", "entity_type", "entity_id"),
        BY_MONTH,
    )

    event_type: Mapped[str] = mapped_column(String(100))
    source: Mapped[str | None] = mapped_column(String(255))
    user_id: Mapped[uuid.UUID | None]
    entity_type: Mapped[str | None] = mapped_column(String(100))
    entity_id: Mapped[uuid.UUID | None]
    severity: Mapped[str] = mapped_column(String(20), server_default="info")
    details: Mapped[dict[str, Any]] = json_object()


class Alert(TenantOwned, Timed, Base):
    __tablename__ = "alerts"
    __table_args__ = (
        one_of("severity", SEVERITIES),
        one_of("status", ALERT_STATUSES),
        Index("ix_alerts_status_time", "tenant_id", "status", "time"),
        BY_MONTH,
    )

    alert_type: Mapped[str] = mapped_column(String(100))
    source: Mapped[str | None] = mapped_column(String(255))
    severity: Mapped[str] = mapped_column(String(20), server_default="warning")
    status: Mapped[str] = mapped_column(String(20), server_default="open")
    title: Mapped[str]
    description: Mapped[str | None]
    assigned_to: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class Anomaly(TenantOwned, Timed, Base):
    __tablename__ = "anomalies"
    __table_args__ = (
        one_of("severity", SEVERITIES),
        Index("ix_anomalies_metric_time", "tenant_id", "metric_name", "time"),
        BY_MONTH,
    )

    metric_name: Mapped[str] = mapped_column(String(255))
    entity_type: Mapped[str | None] = mapped_column(String(100))
    entity_id: Mapped[uuid.UUID | None]
    expected_value: Mapped[float | None]
    actual_value: Mapped[float]
    deviation_percent: Mapped[float | None]
    severity: Mapped[str] = mapped_column(String(20), server_default="warning")


class ForecastModel(TenantOwned, Timestamps, Base):
    __tablename__ = "forecast_models"
    __table_args__ = (Index("uq_forecast_models_name", "tenant_id", "name", unique=True),)

    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None]
    target_metric: Mapped[str] = mapped_column(String(255))
    model_type: Mapped[str] = mapped_column(String(100))
    parameters: Mapped[dict[str, Any]] = json_object()
    accuracy_metrics: Mapped[dict[str, Any]] = json_object()


class Forecast(TenantOwned, Timed, Base):
    __tablename__ = "forecasts"
    __table_args__ = (
        tenant_fk("model_id", "forecast_models"),
        CheckConstraint(
            "confidence_lower IS NULL OR confidence_upper IS NULL "
            "OR confidence_lower <= confidence_upper",
            name="interval_ordered",
        ),
        Index("ix_forecasts_model_time", "tenant_id", "model_id", "time"),
        BY_MONTH,
    )

    model_id: Mapped[uuid.UUID]
    metric_name: Mapped[str] = mapped_column(String(255))
    entity_type: Mapped[str | None] = mapped_column(String(100))
    entity_id: Mapped[uuid.UUID | None]
    forecast_value: Mapped[float]
    confidence_lower: Mapped[float | None]
    confidence_upper: Mapped[float | None]
