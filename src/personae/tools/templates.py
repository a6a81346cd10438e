"""Prompt templates with declared variables, rendered strictly.

A template writes its variables as `{{ name }}` and declares each one it uses; rendering
needs a value for every declared variable and accepts no other (422 naming the variable),
so a prompt never goes out with a hole or a stray value. A capsule's templates come and go
with the capsule; the API changes only the tenant's own."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from personae.errors import Conflict, ValidationFailed
from personae.kernel.principal import Principal
from personae.kernel.resources import Action, Resource
from personae.tools.models import PromptTemplate

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def check_template(content: str, variables: Sequence[Any], field: str = "") -> None:
    """Refuse a variable that is not an identifier, declared twice, or used undeclared."""
    prefix = f"{field}." if field else ""
    for index, name in enumerate(variables):
        if not isinstance(name, str) or not IDENTIFIER.fullmatch(name):
            raise ValidationFailed(
                "a variable is an identifier", field=f"{prefix}variables.{index}"
            )
        if name in variables[:index]:
            raise ValidationFailed(f"{name} is declared twice", field=f"{prefix}variables.{index}")
    undeclared = sorted({m.group(1) for m in PLACEHOLDER.finditer(content)} - set(variables))
    if undeclared:
        raise ValidationFailed(
            f"uses undeclared variables: {', '.join(undeclared)}", field=f"{prefix}template_content"
        )


def render(content: str, variables: Sequence[str], values: Mapping[str, Any]) -> str:
    """`content` with each `{{ name }}` replaced by its value (every declared one needed,
    no other taken)."""
    for name in values:
        if name not in variables:
            raise ValidationFailed("not a variable of the template", field=f"variables.{name}")
    for name in variables:
        if name not in values:
            raise ValidationFailed("missing: the template needs it", field=f"variables.{name}")
    return PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), content)


class _Templates(Resource[PromptTemplate]):
    async def authorize(
        self,
        session: AsyncSession,
        principal: Principal,
        action: Action,
        row: PromptTemplate | None,
        where: Mapping[str, Any],
    ) -> None:
        await super().authorize(session, principal, action, row, where)
        if action in ("update", "delete") and row is not None and row.capsule_id is not None:
            raise Conflict("a capsule's template changes with its capsule")

    async def create(
        self,
        session: AsyncSession,
        principal: Principal,
        values: Mapping[str, Any],
        where: Mapping[str, Any] | None = None,
    ) -> PromptTemplate:
        check_template(values.get("template_content", ""), values.get("variables", []))
        return await super().create(session, principal, values, where)

    async def changing(
        self,
        session: AsyncSession,
        principal: Principal,
        row: PromptTemplate,
        changes: Mapping[str, Any],
    ) -> None:
        check_template(
            changes.get("template_content", row.template_content),
            changes.get("variables", row.variables),
        )


PROMPT_TEMPLATES = _Templates(
    PromptTemplate,
    "prompt_template",
    "tools",
    unique=("capsule_id", "template_name"),
)
