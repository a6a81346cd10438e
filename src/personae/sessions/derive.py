"""What the views hold, derived from events: one function per view, used alike when events
are appended and when `personae sessions rebuild` replays a whole log.

Each function takes a stored event (type and payload as JSON) and returns plain values;
the append path hands them to `personae_append_events`, which writes them in the same
statement, and the rebuild path writes them itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ROLES = {
    "message.user": "user",
    "message.assistant": "assistant",
    "message.tool": "tool",
    "message.system": "system",
}


def message(event_type: str, payload: dict[str, Any]) -> dict[str, Any] | None:
    """The `messages` row of a message event (without ids and seq), else None."""
    role = ROLES.get(event_type)
    if role is None:
        return None
    metadata = dict(payload.get("metadata") or {})
    if payload.get("attachments"):
        metadata["attachments"] = payload["attachments"]
    if payload.get("name"):
        metadata["name"] = payload["name"]
    return {
        "role": role,
        "content": payload.get("content") or "",
        "tool_calls": payload.get("tool_calls"),
        "tool_call_id": payload.get("tool_call_id"),
        "metadata": metadata,
        "created_at": payload.get("occurred_at"),  # when it was said (else: now)
    }


TURN_FIELDS = (
    "turn_number",
    "user_message",
    "assistant_response",
    "run_id",
    "rules_matched",
    "tools_executed",
    "scenario_state",
    "context_extracted",
    "token_usage",
    "latency_ms",
)


def turn(event_type: str, payload: dict[str, Any]) -> dict[str, Any] | None:
    """The `turn_records` row of a `turn.completed` event, else None."""
    if event_type != "turn.completed":
        return None
    return {name: payload.get(name) for name in TURN_FIELDS}


@dataclass
class EnvelopePatch:
    """Changes to a session's envelope: fields set (last wins), maps merged, history added."""

    set: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    step_history: list[Any] = field(default_factory=list)

    def then(self, later: EnvelopePatch) -> EnvelopePatch:
        """This patch followed by `later`, as one patch."""
        return EnvelopePatch(
            {**self.set, **later.set},
            {**self.variables, **later.variables},
            {**self.metadata, **later.metadata},
            [*self.step_history, *later.step_history],
        )

    def as_json(self) -> dict[str, Any]:
        """The shape `personae_append_events` applies (`db/sql/apply_envelope.sql`)."""
        return {
            "set": self.set,
            "variables": self.variables,
            "metadata": self.metadata,
            "step_history": self.step_history,
        }

    def applied_to(self, envelope: dict[str, Any]) -> dict[str, Any]:
        """`envelope` with this patch applied, as the SQL function applies it."""
        return {
            **envelope,
            **self.set,
            "variables": {**envelope["variables"], **self.variables},
            "metadata": {**envelope["metadata"], **self.metadata},
            "step_history": [*envelope["step_history"], *self.step_history],
        }


INITIAL_ENVELOPE: dict[str, Any] = {
    "title": None,
    "status": "ACTIVE",
    "variables": {},
    "metadata": {},
    "active_scenario_id": None,
    "active_scenario_version": None,
    "current_step_id": None,
    "step_history": [],
}
"""An envelope before its first event."""


def envelope(event_type: str, payload: dict[str, Any]) -> EnvelopePatch:
    """How one event changes the envelope (an empty patch for most)."""
    if event_type in ("session.created", "session.updated"):
        return EnvelopePatch(
            {k: payload[k] for k in ("title", "status") if payload.get(k) is not None},
            dict(payload.get("variables") or {}),
            dict(payload.get("metadata") or {}),
        )
    if event_type == "scenario.entered":
        return EnvelopePatch(
            {
                "active_scenario_id": str(payload["scenario_id"]),
                "active_scenario_version": payload["version"],
                "current_step_id": payload["step_id"],
                "pending_migration": None,
            },
            step_history=[
                {"step_id": payload["step_id"], "scenario_id": str(payload["scenario_id"])}
            ],
        )
    if event_type == "scenario.step":
        return EnvelopePatch(
            {"current_step_id": payload["step_id"]},
            step_history=[{"step_id": payload["step_id"]}],
        )
    if event_type == "scenario.exited":
        return EnvelopePatch(
            {
                "active_scenario_id": None,
                "active_scenario_version": None,
                "current_step_id": None,
                "pending_migration": None,
            }
        )
    if event_type == "scenario.migrated":
        return EnvelopePatch(
            {
                "active_scenario_version": payload["to_version"],
                "current_step_id": payload["step_id"],
                "pending_migration": None,
            },
            dict(payload.get("filled") or {}),
            step_history=[{"step_id": payload["step_id"], "migrated": str(payload["plan_id"])}],
        )
    return EnvelopePatch()
