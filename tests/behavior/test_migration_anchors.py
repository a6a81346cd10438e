"""How a migration plan anchors the steps of one version in the next: kept, renamed, in
need of new variables, changed, gone (to the closest earlier checkpoint kept, else the
closest earlier step kept), or told; overrides checked naming the step."""

from __future__ import annotations

from typing import Any

import pytest

from personae.behavior import journeys
from personae.behavior.migration_plans import anchored
from personae.errors import ValidationFailed


def _steps(*given: dict[str, Any]) -> list[journeys.Step]:
    return journeys.check(list(given))


def _go(name: str, to: str, **more: Any) -> dict[str, Any]:
    return {"name": name, "transitions": [{"to": to, "condition": "next"}], **more}


def _old(checkpoint: bool) -> list[journeys.Step]:
    return _steps(
        _go("a", "b", checkpoint=checkpoint),
        _go("b", "c"),
        _go("c", "d", instructions="Check."),
        _go("d", "e"),
        _go("e", "f"),
        {"name": "f", "terminal": True},
    )


OLD = _old(checkpoint=False)


def test_each_step_gets_the_policy_its_change_calls_for() -> None:
    new = _steps(
        _go("a", "b"),  # unchanged
        _go("b", "x"),  # changed (it goes elsewhere)
        _go("x", "c2"),
        _go("c2", "d", instructions="Check."),  # c renamed
        _go("d", "f", required_variables=["email"]),  # needs a variable now
        {"name": "f", "terminal": True},
    )
    moves = anchored(OLD, new, {})
    assert {k: (v["policy"], v["to"]) for k, v in moves.items()} == {
        "a": ("CLEAN_GRAFT", "a"),
        "b": ("RE_ROUTE", "b"),
        "c": ("CLEAN_GRAFT", "c2"),
        "d": ("GAP_FILL", "d"),
        "e": ("RE_ROUTE", "d"),  # gone: the closest earlier step kept, d
        "f": ("CLEAN_GRAFT", "f"),
    }
    assert moves["d"]["collect"] == ["email"] and moves["c"]["why"] == "renamed"


def test_a_gone_step_prefers_the_closest_earlier_checkpoint() -> None:
    new = _steps(
        _go("a", "b", checkpoint=True),
        _go("b", "d", instructions="Changed."),
        _go("d", "f", instructions="Changed too."),
        {"name": "f", "terminal": True},
    )
    moves = anchored(_old(checkpoint=True), new, {})
    assert {k: v["to"] for k, v in moves.items() if v["policy"] == "RE_ROUTE"} == {
        "b": "b",  # changed: to its new form
        "d": "d",
        "c": "a",  # gone: b is closer, but a is the checkpoint
        "e": "a",
    }
    lone = _steps(_go("z", "f"), {"name": "f", "terminal": True})
    old = _steps(_go("q", "f", instructions="Old."), {"name": "f", "terminal": True})
    assert anchored(old, lone, {})["q"] == {
        "policy": "RE_ROUTE",
        "to": "z",  # nothing earlier was kept: the new first step
        "why": "gone",
    }


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"nowhere": {"policy": "RE_ROUTE"}}, "anchor_policies.nowhere"),
        ({"b": {"policy": "JUMP"}}, "anchor_policies.b.policy"),
        ({"b": {"policy": "RE_ROUTE", "to": "x"}}, "anchor_policies.b.to"),
    ],
)
def test_overrides_are_checked(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        anchored(OLD, OLD, overrides)
    assert refused.value.field == field
    told = anchored(OLD, OLD, {"b": {"policy": "GAP_FILL", "to": "d"}})["b"]
    assert told == {"policy": "GAP_FILL", "to": "d", "collect": [], "why": "told"}
