"""Telemetry of conversations (Staples Brain): a telemetry session per conversation (or per
any session key a client uses), and the events recorded in it."""

from __future__ import annotations

from personae.kernel.resources import Resource
from personae.sessions.models import Session
from personae.telemetry.models import TelemetryEvent, TelemetrySession

WRITES = {"create": "write", "update": "write", "delete": "write"}

TELEMETRY_SESSIONS = Resource(
    TelemetrySession,
    "telemetry_session",
    "telemetry",
    actions=WRITES,
    references={"conversation_id": Session},
)
TELEMETRY_EVENTS = Resource(TelemetryEvent, "telemetry_event", "telemetry", actions=WRITES)
