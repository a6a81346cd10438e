"""Variables: named values a session carries, defined per agent.

A definition gives a variable its default and its update policy: a new value REPLACEs
the old one, is APPENDed to it (a list), or is MERGEd into it (an object). Values live in
the session's `variables`; rules set them when they fire, a resolver tool may compute
them, and prompts (rules' instructions), rules' filters and templates read them."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from personae.behavior.models import Variable
from personae.errors import ValidationFailed
from personae.kernel.principal import Principal
from personae.kernel.resources import Resource

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
RESERVED = ("profile", "message", "answer")
MAX_APPENDED = 100
"""The most items an APPEND variable keeps (the latest): a rule firing every turn must
not grow a session without end."""
"""Names the template and expression languages give their own meaning."""


def updated(policy: str, old: Any, new: Any, field: str = "value") -> Any:
    """The value a variable of `policy` has once `new` is set on `old`."""
    if policy == "APPEND":
        before = [] if old is None else old if isinstance(old, list) else [old]
        return [*before, *(new if isinstance(new, list) else [new])][-MAX_APPENDED:]
    if policy == "MERGE":
        if not isinstance(new, Mapping) or not isinstance(old, Mapping | None):
            raise ValidationFailed("a MERGE variable takes an object", field=field)
        return {**(old or {}), **new}
    return new


def values(definitions: Iterable[Definition], stored: Mapping[str, Any]) -> dict[str, Any]:
    """The session's values: what it stores, over the definitions' defaults."""
    defaults = {v.name: v.default_value for v in definitions if v.default_value is not None}
    return {**defaults, **stored}


@dataclass(frozen=True)
class Definition:
    """What a turn needs of a variable's definition."""

    name: str
    default_value: str | None = None
    update_policy: str = "REPLACE"
    resolver_tool_id: str | None = None
    refresh: str = "SESSION_START"
    ttl_seconds: int | None = None


DEFINED = (
    "SELECT coalesce(jsonb_agg(jsonb_build_object('name', v.name, 'default_value', "
    "v.default_value, 'update_policy', v.update_policy, 'resolver_tool_id', "
    "v.resolver_tool_id, 'refresh', v.refresh, 'ttl_seconds', v.ttl_seconds)), '[]') "
    "FROM variables AS v WHERE v.agent_id = :agent_id AND v.deleted_at IS NULL"
)
"""The agent's live definitions as one JSON array (a scalar subquery for a statement
that reads more)."""


def definitions(given: Sequence[Mapping[str, Any]]) -> dict[str, Definition]:
    """The definitions `DEFINED` read, by name."""
    return {d["name"]: Definition(**d) for d in given}


async def defined(session: AsyncSession, agent_id: uuid.UUID) -> dict[str, Definition]:
    """The agent's live variable definitions, by name."""
    found = await session.execute(text(DEFINED), {"agent_id": agent_id})
    return definitions(found.scalar_one())


class _Variables(Resource[Variable]):
    """Variables of an agent (`/agents/{agent_id}/variables`), unique by name within it."""

    async def check(
        self, session: AsyncSession, principal: Principal, values: Mapping[str, Any]
    ) -> None:
        name = values.get("name")
        if name is not None and not IDENTIFIER.fullmatch(name):
            raise ValidationFailed(
                "a letter or _, then letters, digits or _ (at most 64)", field="name"
            )
        if name in RESERVED:
            raise ValidationFailed(f"{name} is reserved", field="name")


VARIABLES = _Variables(Variable, "variable", "rules", unique=("agent_id", "name"))
