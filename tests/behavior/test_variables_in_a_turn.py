"""When a turn computes an agent's variables with their tools, and what a kept rule's
setting does to a value its tool has just computed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from personae.behavior.applying import RESOLVED, Behaviour, Resolver
from personae.behavior.matching import Match

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _kept(**variables: object) -> Match:
    return Match(uuid.uuid4(), "r", 0, 0.9, 0.9, 0.9, False, {"variables": variables}, kept=True)


def test_each_refresh_says_when_a_variable_is_computed_and_its_ttl_holds_it() -> None:
    behaviour = Behaviour(
        resolvers={
            "every": Resolver("t", "TURN", None),
            "first": Resolver("t", "SESSION_START", None),
            "fired": Resolver("t", "RULE_FIRE", None),
            "held": Resolver("t", "TURN", 3600),
        },
        policies={"fired": "REPLACE"},
    )
    assert behaviour.due(1, NOW) == ["every", "first", "held"]
    behaviour.values[RESOLVED] = {
        "first": NOW.isoformat(),
        "held": (NOW - timedelta(minutes=5)).isoformat(),
    }
    assert behaviour.due(2, NOW) == ["every"]  # started, and held for its hour
    behaviour.matches = [_kept(fired="x")]
    assert behaviour.due(2, NOW) == ["every", "fired"]
    behaviour.values[RESOLVED] = {"held": "not a time", "first": NOW.isoformat()}
    assert "held" in behaviour.due(2, NOW)  # a stamp it cannot read counts as never


def test_a_value_its_tool_computed_is_not_overwritten_by_the_rule_that_fired_it() -> None:
    behaviour = Behaviour(
        matches=[_kept(fired="placeholder", plain="set")],
        policies={"fired": "REPLACE", "plain": "REPLACE"},
        resolvers={"fired": Resolver("t", "RULE_FIRE", None)},
    )
    behaviour.computed("fired", "from the tool", NOW)
    changed = behaviour.settle()
    assert changed["fired"] == "from the tool" and changed["plain"] == "set"
    assert changed[RESOLVED] == {"fired": NOW.isoformat()}
