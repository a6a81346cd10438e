"""Output guards: what an agent's answer must satisfy before anyone sees it.

An agent's `configuration.guards` lists its checks and how many times an answer that
fails one is written again:

    {"checks": [{"name": "no_promises",
                 "expression": "not contains(lower(answer), 'guarantee')",
                 "says": "Never guarantee an outcome."}],
     "regenerations": 2}

An expression (`behavior.expressions`) reads `answer`, `message`, `profile` and the
session's variables by name, and must be true for the answer to pass; one that cannot be
evaluated counts as failed (a guard fails closed). A guard may instead be a `check` in
plain language ("the answer does not give legal advice"), judged by the tenant's utility
model (one call for all of an agent's checks; one that cannot be judged fails). On a
failure the model is told what the guard `says` (its expression if it says nothing) and
answers again, up to `regenerations` times; then the agent's FALLBACK template answers,
and without one the run fails naming the guard."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from personae.behavior.expressions import EvaluationFailed, Expression, parse
from personae.errors import ValidationFailed

FIELD = "configuration.guards"
MAX_CHECKS = 20
MAX_REGENERATIONS = 5


@dataclass(frozen=True)
class Guard:
    name: str
    expression: Expression | None
    """Deterministic: must be true of the answer (or `check`, in plain language)."""
    check: str | None
    """In plain language, judged by the tenant's utility model."""
    says: str


@dataclass(frozen=True)
class Violation:
    guard: str
    says: str
    error: str | None = None
    """Why the guard could not be evaluated, when it could not."""

    def shown(self) -> dict[str, Any]:
        return {"guard": self.guard, "says": self.says, "error": self.error}


@dataclass(frozen=True)
class Guards:
    """An agent's output guards (none: every answer passes as it is)."""

    checks: tuple[Guard, ...] = ()
    regenerations: int = 2

    @classmethod
    def of(cls, configuration: Mapping[str, Any]) -> Guards:
        """The agent's guards, checked (422 naming the field at fault)."""
        given = configuration.get("guards")
        if given is None:
            return cls()
        if not isinstance(given, Mapping) or set(given) - {"checks", "regenerations"}:
            raise ValidationFailed("an object of checks and regenerations", field=FIELD)
        regenerations = given.get("regenerations", 2)
        if (
            isinstance(regenerations, bool)
            or not isinstance(regenerations, int)
            or not 0 <= regenerations <= MAX_REGENERATIONS
        ):
            raise ValidationFailed(
                f"between 0 and {MAX_REGENERATIONS}", field=f"{FIELD}.regenerations"
            )
        checks = given.get("checks") or []
        if not isinstance(checks, list) or len(checks) > MAX_CHECKS:
            raise ValidationFailed(f"a list of at most {MAX_CHECKS}", field=f"{FIELD}.checks")
        return cls(
            tuple(_guard(c, f"{FIELD}.checks.{i}") for i, c in enumerate(checks)), regenerations
        )

    @property
    def plain(self) -> list[Guard]:
        """The guards in plain language (for the utility model)."""
        return [g for g in self.checks if g.check is not None]

    def violations(self, values: Mapping[str, Any]) -> list[Violation]:
        """The expression guards `values` (the answer and what it is judged with) fail."""
        failed = []
        for guard in self.checks:
            if guard.expression is None:
                continue
            try:
                if not guard.expression.evaluate(values):
                    failed.append(Violation(guard.name, guard.says))
            except EvaluationFailed as wrong:
                failed.append(Violation(guard.name, guard.says, wrong.detail))
        return failed


def _guard(given: Any, field: str) -> Guard:
    if not isinstance(given, Mapping) or set(given) - {"name", "expression", "check", "says"}:
        raise ValidationFailed("an object of name, expression or check, and says", field=field)
    name, says = given.get("name"), given.get("says")
    if not isinstance(name, str) or not 0 < len(name) <= 100:
        raise ValidationFailed("a name of 1 to 100 characters", field=f"{field}.name")
    if says is not None and (not isinstance(says, str) or len(says) > 1000):
        raise ValidationFailed("text of at most 1000 characters", field=f"{field}.says")
    source, check = given.get("expression"), given.get("check")
    if (source is None) == (check is None):
        raise ValidationFailed("an expression or a check, not both", field=f"{field}.expression")
    if check is not None:
        if not isinstance(check, str) or not 0 < len(check.strip()) <= 1000:
            raise ValidationFailed("text of 1 to 1000 characters", field=f"{field}.check")
        return Guard(name, None, check.strip(), says or f"the answer must meet: {check}")
    if not isinstance(source, str):
        raise ValidationFailed("an expression is text", field=f"{field}.expression")
    expression = parse(source, f"{field}.expression")
    return Guard(name, expression, None, says or f"the answer must satisfy: {source}")
