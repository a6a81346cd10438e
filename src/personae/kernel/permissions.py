"""The permission catalogue (`<resource>:<action>`), the four built-in roles and the scope
presets."""

from __future__ import annotations

from collections.abc import Iterable

RESOURCES: dict[str, tuple[str, ...]] = {
    "tenant": ("read", "update", "delete"),
    "members": ("read", "manage"),
    "teams": ("read", "create", "update", "delete"),
    "roles": ("read", "manage"),
    "invitations": ("read", "create", "revoke"),
    "tokens": ("read", "create", "revoke"),
    "secrets": ("read", "write", "delete", "reveal"),
    "settings": ("read", "write"),
    "flags": ("read", "write"),
    "model_configs": ("read", "create", "update", "delete"),
    "audit": ("read",),
    "personas": ("read", "create", "update", "delete"),
    "agents": ("read", "create", "update", "delete"),
    "sessions": ("read", "create", "update", "delete"),
    "attachments": ("read_quarantined",),
    "documents": ("read", "create", "update", "delete"),
    "memory": ("read", "write", "delete"),
    "tools": ("read", "create", "update", "delete", "execute", "approve"),
    "rules": ("read", "create", "update", "delete"),
    "scenarios": ("read", "create", "update", "delete", "approve"),
    "profiles": ("read", "create", "update", "delete"),
    "telemetry": ("read", "write"),
}

CATALOGUE: tuple[str, ...] = tuple(
    f"{resource}:{action}" for resource, actions in RESOURCES.items() for action in actions
)

_ADMINISTRATION = {"tenant:delete"}
_MEMBER_WRITES = {
    f"{resource}:{action}"
    for resource in (
        "personas",
        "agents",
        "sessions",
        "documents",
        "rules",
        "scenarios",
        "profiles",
    )
    for action in ("create", "update", "delete")
} | {"memory:write", "memory:delete", "tools:execute", "telemetry:write", "secrets:write"}

BUILTIN_ROLES: dict[str, frozenset[str]] = {
    "owner": frozenset(CATALOGUE),
    "admin": frozenset(CATALOGUE) - _ADMINISTRATION,
    "member": frozenset(p for p in CATALOGUE if p.endswith(":read") and p != "audit:read")
    | _MEMBER_WRITES,
    "viewer": frozenset(
        p for p in CATALOGUE if p.endswith(":read") and p not in {"audit:read", "secrets:read"}
    ),
}


PRESETS: dict[str, frozenset[str]] = {
    "openai:chat": frozenset(
        {
            "personas:read",
            "agents:read",
            "sessions:read",
            "sessions:create",
            "sessions:update",
            "memory:read",
            "documents:read",
            "tools:read",
            "tools:execute",
        }
    ),
}
"""Scopes a token may be given by one name: `openai:chat` is exactly what the OpenAI front
door needs (list the models, hold conversations, recall, call the persona's tools)."""


def expand(scopes: Iterable[str]) -> list[str]:
    """`scopes` with each preset replaced by its permissions, sorted, once each."""
    return sorted({p for scope in scopes for p in PRESETS.get(scope, {scope})})


def describe(permission: str) -> str:
    resource, action = permission.split(":")
    return f"{action} {resource.replace('_', ' ')}"
