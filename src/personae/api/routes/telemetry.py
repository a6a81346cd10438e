"""Conversation telemetry: sessions and their events."""

from __future__ import annotations

from fastapi import APIRouter

from personae.api.resource_routes import Parent, mount
from personae.telemetry.conversations import TELEMETRY_EVENTS, TELEMETRY_SESSIONS
from personae.telemetry.schemas import (
    TelemetryEventCreate,
    TelemetryEventFilters,
    TelemetryEventOut,
    TelemetrySessionCreate,
    TelemetrySessionFilters,
    TelemetrySessionOut,
)

router = APIRouter(prefix="/v1/telemetry")
mount(
    router,
    TELEMETRY_SESSIONS,
    path="/sessions",
    id_param="telemetry_session_id",
    out=TelemetrySessionOut,
    create=TelemetrySessionCreate,
    filters=TelemetrySessionFilters,
)
mount(
    router,
    TELEMETRY_EVENTS,
    path="/events",
    id_param="event_id",
    out=TelemetryEventOut,
    create=TelemetryEventCreate,
    filters=TelemetryEventFilters,
    parent=Parent(TELEMETRY_SESSIONS, "/sessions", "session_id"),
)
