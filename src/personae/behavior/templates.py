"""Response templates: wording an agent suggests, answers with, or falls back on.

A template is Jinja text (`{{ name }}`, `{% if %}`, filters) rendered in Jinja's sandbox
with strict undefined values: a variable with no value is an error naming it, never an
empty hole. It reads the session's variables by name, `profile` (the customer's current
fields) and `message` (the user's). Its mode says how a turn uses it:

- SUGGEST: offered to the model as a preferred wording;
- EXCLUSIVE: the rendered template is the answer (no model call);
- FALLBACK: the answer when the model chain fails or output enforcement gives up.

A template is compiled when written (a syntax error is a 422 naming `content`) and every
top-level name it reads must be one of the agent's variables, `profile` or `message`
(422 naming the variable). Loops may not nest, ranges and repetitions are bounded and
the output is capped (`MAX_OUTPUT`): a template is a tenant's code, and runs in our
process only because this language cannot reach out of it."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import jinja2
from jinja2 import meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from personae.behavior.models import Template, Variable
from personae.behavior.scopes import check_scope, merged_scope
from personae.errors import PersonaeError, ValidationFailed
from personae.kernel.principal import Principal
from personae.kernel.resources import Resource

MAX_OUTPUT = 20_000
"""The longest rendered template (characters)."""
MAX_RANGE = 1000
BUILT_IN = ("profile", "message")
"""Names every template may read besides the agent's variables."""


class RenderFailed(PersonaeError):
    """A template could not be rendered with the values of the moment (a variable without
    a value, an operation the sandbox refuses, an output too long)."""


class _Sandbox(SandboxedEnvironment):
    """Jinja's sandbox, with repetition bounded."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        # values are read, never called: a method of a value could build anything
        return not callable(value) and super().is_safe_attribute(obj, attr, value)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            raise SecurityError("powers are not allowed in a template")
        if operator == "%" and isinstance(left, str):
            raise SecurityError("% formatting is not allowed in a template")
        sized = isinstance(left, str | list) or isinstance(right, str | list)
        if sized:
            size = len(left) if isinstance(left, str | list) else len(right)
            times = right if isinstance(left, str | list) else left
            if isinstance(times, int) and size * times > MAX_OUTPUT:
                raise SecurityError("a repetition longer than a template may be")
        return super().call_binop(context, operator, left, right)


def _replace(value: Any, old: str, new: str) -> str:
    text = str(value)
    if old == "" or len(text) + text.count(old) * max(len(new) - len(old), 0) > MAX_OUTPUT:
        raise SecurityError("a replacement longer than a template may be")
    return text.replace(old, new)


SHRINKING_FILTERS = [
    "abs",
    "capitalize",
    "count",
    "d",
    "default",
    "dictsort",
    "first",
    "float",
    "int",
    "join",
    "last",
    "length",
    "list",
    "lower",
    "max",
    "min",
    "round",
    "sort",
    "string",
    "striptags",
    "sum",
    "title",
    "trim",
    "truncate",
    "unique",
    "upper",
    "wordcount",
]
"""Filters whose output is bounded by their input (`replace` is ours, bounded)."""

ENVIRONMENT = _Sandbox(undefined=jinja2.StrictUndefined, autoescape=False)
ENVIRONMENT.globals = {"range": lambda *a: range(*a)[:MAX_RANGE]}
ENVIRONMENT.filters = {
    **{name: ENVIRONMENT.filters[name] for name in SHRINKING_FILTERS},
    "replace": _replace,
}


@lru_cache(maxsize=256)
def compile_content(content: str) -> jinja2.Template:
    """The template `content` compiled, or 422 naming `content`."""
    tree = _parsed(content)
    try:
        return ENVIRONMENT.from_string(tree)
    except jinja2.TemplateSyntaxError as wrong:  # an unknown filter or test
        raise ValidationFailed(f"does not compile: {wrong.message}", field="content") from None


def _parsed(content: str) -> nodes.Template:
    try:
        tree = ENVIRONMENT.parse(content)
    except jinja2.TemplateSyntaxError as wrong:
        raise ValidationFailed(
            f"does not compile: {wrong.message} (line {wrong.lineno})", field="content"
        ) from None
    for loop in tree.find_all(nodes.For):
        if any(True for _ in loop.find_all(nodes.For)):
            raise ValidationFailed("loops may not nest in a template", field="content")
    for node in tree.find_all((nodes.Macro, nodes.CallBlock, nodes.Extends, nodes.Include)):
        raise ValidationFailed(f"{type(node).__name__} is not allowed here", field="content")
    return tree


def names_read(content: str) -> set[str]:
    """The top-level names the template reads."""
    return set(meta.find_undeclared_variables(_parsed(content)))


def render(content: str, values: Mapping[str, Any]) -> str:
    """The template rendered with `values` (RenderFailed naming what is missing)."""
    try:
        rendered = _capped(compile_content(content), values)
    except ValidationFailed as wrong:
        raise RenderFailed(f"the template does not compile: {wrong.detail}") from None
    except jinja2.UndefinedError as missing:
        raise RenderFailed(f"a value is missing: {missing.message}") from None
    except SecurityError as refused:
        raise RenderFailed(f"refused by the sandbox: {refused}") from None
    except (TypeError, ValueError, ZeroDivisionError, OverflowError) as wrong:
        raise RenderFailed(f"{type(wrong).__name__}: {wrong}") from None
    return rendered


def _capped(template: jinja2.Template, values: Mapping[str, Any]) -> str:
    """The template rendered, stopped as soon as it is longer than `MAX_OUTPUT` (a loop
    over a long value must not build a long string first)."""
    pieces, length = [], 0
    for piece in template.generate(dict(values)):
        length += len(piece)
        if length > MAX_OUTPUT:
            raise RenderFailed(f"the rendered template is longer than {MAX_OUTPUT} characters")
        pieces.append(piece)
    return "".join(pieces)


async def check_names(session: AsyncSession, agent_id: uuid.UUID, content: str) -> None:
    """422 naming the first name the template reads that the agent has no variable for."""
    unknown = names_read(content) - set(BUILT_IN)
    if not unknown:
        return
    defined = await session.execute(
        select(Variable.name).where(
            Variable.agent_id == agent_id,
            Variable.name.in_(unknown),
            Variable.deleted_at.is_(None),
        )
    )
    missing = sorted(unknown - set(defined.scalars()))
    if missing:
        raise ValidationFailed(
            f"reads {missing[0]}: the agent has no such variable (define it first, or "
            "read it from profile)",
            field="content",
        )


class _Templates(Resource[Template]):
    """Templates of an agent (`/agents/{agent_id}/templates`), unique by name within it."""

    async def check(
        self, session: AsyncSession, principal: Principal, values: Mapping[str, Any]
    ) -> None:
        if "content" in values:
            compile_content(values["content"])
            if "agent_id" in values:
                await check_names(session, values["agent_id"], values["content"])
        await check_scope(session, values)

    async def changing(
        self,
        session: AsyncSession,
        principal: Principal,
        row: Template,
        changes: Mapping[str, Any],
    ) -> None:
        if "content" in changes:
            await check_names(session, row.agent_id, changes["content"])
        merged = merged_scope(row, changes)
        if merged is not None:
            await check_scope(session, merged)


TEMPLATES = _Templates(Template, "template", "rules", unique=("agent_id", "name"))
