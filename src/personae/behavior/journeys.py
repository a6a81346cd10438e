"""A scenario's steps as a graph: read from its `steps` and checked when written.

A scenario is a journey a conversation moves through. Its `steps` (a JSON list) are its
graph; the first step is where it is entered:

    [{"name": "identify", "instructions": "Ask for the card's last four digits.",
      "required_variables": ["card_end"], "checkpoint": false,
      "transitions": [
          {"to": "block", "condition": "the customer confirms the card is theirs"},
          {"to": "identify", "expression": "len(card_end) != 4"},
          {"to": "handoff", "fallback": true}],
      "max_loops": 3, "tools": ["card_lookup"]},
     {"name": "block", "terminal": true, ...}, ...]

A transition goes to `to` when its `condition` (plain language, matched like a rule) or
its `expression` (over the session's variables, `behavior.expressions`) holds; the first
that holds by `priority` (higher first, then as listed) is taken; a `fallback` one is
taken when none holds. A step's `tools` are offered to the model while the session is in
it. A step may be visited at most `max_loops` times in a stay (a
step on a cycle must say how many). `check` refuses (422 naming the step) an unknown or
repeated step, a transition to an unknown step, a step no path reaches from the first, a
step with no way out that is not terminal, and a cycle through a step without
`max_loops`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic import ValidationError as ShapeError

from personae.behavior import expressions
from personae.errors import ValidationFailed

FIELD = "steps"
MAX_STEPS = 200
MAX_CONDITIONS = 500
"""Plain-language transition conditions in a scenario: each is embedded when written."""
Name = Annotated[str, Field(min_length=1, max_length=255)]


class Transition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: Name
    condition: str | None = Field(None, min_length=1, max_length=4000)
    expression: str | None = Field(None, min_length=1, max_length=expressions.MAX_CHARS)
    priority: int = Field(0, ge=-1000, le=1000)
    fallback: bool = False

    @model_validator(mode="after")
    def _one_way_to_hold(self) -> Transition:
        given = [self.condition is not None, self.expression is not None, self.fallback]
        if sum(given) != 1:
            raise ValueError("a transition has one of condition, expression or fallback")
        return self


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    instructions: str | None = Field(None, max_length=4000)
    required_variables: list[Name] = Field(default_factory=list, max_length=50)
    checkpoint: bool = False
    terminal: bool = False
    max_loops: int | None = Field(None, ge=1, le=1000)
    transitions: list[Transition] = Field(default_factory=list, max_length=50)
    tools: list[Name] = Field(default_factory=list, max_length=50)
    """Tools offered while the session is in this step (beside those the rules attach)."""


def check(steps: Sequence[Any], field: str = FIELD) -> list[Step]:
    """The scenario's steps, checked as a graph (422 naming the step at fault)."""
    if not isinstance(steps, Sequence) or isinstance(steps, str | bytes):
        raise ValidationFailed("a list of steps", field=field)
    if not steps:
        raise ValidationFailed("a scenario has at least one step", field=field)
    if len(steps) > MAX_STEPS:
        raise ValidationFailed(f"at most {MAX_STEPS} steps", field=field)
    parsed = [_step(given, f"{field}.{index}") for index, given in enumerate(steps)]
    index = {}
    for position, step in enumerate(parsed):
        if step.name in index:
            raise ValidationFailed(
                f"step {step.name} is named twice", field=f"{field}.{position}.name"
            )
        index[step.name] = position
    for position, step in enumerate(parsed):
        where = f"{field}.{position}"
        for number, transition in enumerate(step.transitions):
            if transition.to not in index:
                raise ValidationFailed(
                    f"step {step.name} goes to {transition.to}, which is no step",
                    field=f"{where}.transitions.{number}.to",
                )
            if transition.expression is not None:
                expressions.parse(transition.expression, f"{where}.transitions.{number}.expression")
        if sum(t.fallback for t in step.transitions) > 1:
            raise ValidationFailed(
                f"step {step.name} has two fallbacks", field=f"{where}.transitions"
            )
        if not step.transitions and not step.terminal:
            raise ValidationFailed(
                f"step {step.name} has no way out and is not terminal", field=where
            )
        if step.terminal and step.transitions:
            raise ValidationFailed(
                f"terminal step {step.name} goes nowhere", field=f"{where}.transitions"
            )
    conditions = sum(t.condition is not None for s in parsed for t in s.transitions)
    if conditions > MAX_CONDITIONS:
        raise ValidationFailed(
            f"at most {MAX_CONDITIONS} transition conditions in a scenario ({conditions} given)",
            field=field,
        )
    reached = _reachable(parsed, index)
    for position, step in enumerate(parsed):
        if step.name not in reached:
            raise ValidationFailed(
                f"step {step.name} cannot be reached from {parsed[0].name}",
                field=f"{field}.{position}",
            )
    for name in _on_cycles(parsed, index):
        step = parsed[index[name]]
        if step.max_loops is None:
            raise ValidationFailed(
                f"step {name} is on a cycle: say its max_loops",
                field=f"{field}.{index[name]}.max_loops",
            )
    return parsed


def _step(given: Any, field: str) -> Step:
    try:
        return Step.model_validate(given)
    except ShapeError as wrong:
        first = wrong.errors()[0]
        where = ".".join(str(part) for part in (field, *first["loc"]))
        raise ValidationFailed(first["msg"].removeprefix("Value error, "), field=where) from None


def _reachable(steps: list[Step], index: Mapping[str, int]) -> set[str]:
    seen, todo = {steps[0].name}, [steps[0].name]
    while todo:
        for transition in steps[index[todo.pop()]].transitions:
            if transition.to not in seen:
                seen.add(transition.to)
                todo.append(transition.to)
    return seen


def _on_cycles(steps: list[Step], index: Mapping[str, int]) -> list[str]:
    """The steps that lie on a cycle (a self-loop included), in their order."""
    edges = {s.name: {t.to for t in s.transitions} for s in steps}

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            for nxt in edges[todo.pop()]:
                if nxt == goal:
                    return True
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return False

    return [s.name for s in steps if reaches(s.name, s.name)]
