"""A scenario's steps checked as a graph when written: what a valid journey looks like,
and each way a graph can be broken, refused naming the step at fault."""

from __future__ import annotations

from typing import Any

import pytest

from personae.behavior import journeys
from personae.errors import ValidationFailed

CARD: list[dict[str, Any]] = [
    {
        "name": "identify",
        "required_variables": ["card_end"],
        "max_loops": 3,
        "transitions": [
            {"to": "block", "condition": "the customer confirms the card is theirs"},
            {"to": "identify", "expression": "len(card_end) != 4", "priority": 1},
            {"to": "handoff", "fallback": True},
        ],
    },
    {"name": "block", "transitions": [{"to": "done", "expression": "blocked == True"}]},
    {"name": "handoff", "terminal": True},
    {"name": "done", "terminal": True},
]


def test_a_journey_with_a_bounded_loop_and_terminal_steps_is_taken() -> None:
    steps = journeys.check(CARD)
    assert [s.name for s in steps] == ["identify", "block", "handoff", "done"]
    assert steps[0].transitions[2].fallback and steps[0].max_loops == 3


def _with(index: int, **changes: Any) -> list[dict[str, Any]]:
    changed = [dict(step) for step in CARD]
    changed[index] = {**changed[index], **changes}
    return changed


@pytest.mark.parametrize(
    ("steps", "field", "said"),
    [
        ([], "steps", "at least one"),
        ([*CARD, {"name": "block", "terminal": True}], "steps.4.name", "named twice"),
        (
            _with(1, transitions=[{"to": "nowhere", "fallback": True}]),
            "steps.1.transitions.0.to",
            "no step",
        ),
        (_with(1, transitions=[]), "steps.1", "no way out"),
        ([*CARD, {"name": "orphan", "terminal": True}], "steps.4", "cannot be reached"),
        (_with(0, max_loops=None), "steps.0.max_loops", "cycle"),
        (
            _with(1, transitions=[{"to": "done", "expression": "blocked =="}]),
            "steps.1.transitions.0.expression",
            "parse",
        ),
        (_with(1, transitions=[{"to": "done"}]), "steps.1.transitions.0", "one of"),
        (
            _with(2, transitions=[{"to": "done", "fallback": True}]),
            "steps.2.transitions",
            "terminal",
        ),
        (_with(1, colour="red"), "steps.1.colour", "Extra"),
    ],
)
def test_a_broken_graph_is_refused_naming_the_step(
    steps: list[dict[str, Any]], field: str, said: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        journeys.check(steps)
    assert refused.value.field == field and said in refused.value.detail


def test_a_cycle_through_two_steps_needs_a_loop_limit_on_each() -> None:
    ping_pong: list[dict[str, Any]] = [
        {"name": "a", "max_loops": 2, "transitions": [{"to": "b", "fallback": True}]},
        {
            "name": "b",
            "transitions": [{"to": "a", "condition": "again"}, {"to": "c", "fallback": True}],
        },
        {"name": "c", "terminal": True},
    ]
    with pytest.raises(ValidationFailed) as refused:
        journeys.check(ping_pong)
    assert refused.value.field == "steps.1.max_loops"
    ping_pong[1]["max_loops"] = 2
    assert len(journeys.check(ping_pong)) == 3
