"""The neuromodulator rule: parameters stay in their ranges and move the documented way
(more dopamine, warmer; more serotonin, cooler; more noradrenaline, narrower; more
acetylcholine, more memories); decay drifts toward the baseline without overshooting;
nudges stay within [0, 1]; bad levels are refused naming the field."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from personae.errors import ValidationFailed
from personae.personas.modulation import (
    EVENTS,
    NAMES,
    Levels,
    adaptation,
    decayed,
    nudged,
    parameters,
)

LEVEL = st.floats(min_value=0, max_value=1)
LEVELS = st.builds(Levels, LEVEL, LEVEL, LEVEL, LEVEL)


def test_the_defaults_give_the_documented_parameters() -> None:
    assert parameters(Levels()).sampling() == {
        "temperature": 0.575,
        "top_p": 1.0,
        "presence_penalty": 0.0,
    }
    assert parameters(Levels()).memory_k == 9


@given(LEVELS)
def test_parameters_stay_in_their_ranges(levels: Levels) -> None:
    p = parameters(levels)
    assert 0.2 <= p.temperature <= 1.2 and 0.6 <= p.top_p <= 1.0
    assert -0.3 <= p.presence_penalty <= 0.3 and 3 <= p.memory_k <= 15


@given(LEVELS, LEVEL)
def test_each_level_moves_its_parameter_one_way(levels: Levels, more: float) -> None:
    levels = Levels(**levels.stored())  # as stored: the others stay exactly as they are

    def with_(name: str) -> Levels:
        return Levels(**{**levels.stored(), name: max(getattr(levels, name), more)})

    p = parameters(levels)
    assert parameters(with_("dopamine")).temperature >= p.temperature
    assert parameters(with_("serotonin")).temperature <= p.temperature
    assert parameters(with_("noradrenaline")).top_p <= p.top_p
    assert parameters(with_("acetylcholine")).memory_k >= p.memory_k


@given(LEVELS, LEVELS, st.floats(min_value=0, max_value=1))
def test_decay_moves_toward_the_baseline_without_overshooting(
    levels: Levels, baseline: Levels, rate: float
) -> None:
    after = decayed(levels, baseline, rate)
    for name in NAMES:
        before, target, now = getattr(levels, name), getattr(baseline, name), getattr(after, name)
        assert abs(now - target) <= abs(before - target) + 1e-9
        assert min(before, target) - 1e-9 <= now <= max(before, target) + 1e-9


@given(
    LEVELS,
    st.sampled_from(sorted(EVENTS)),
    st.dictionaries(st.sampled_from(NAMES), st.floats(-5, 5)),
)
def test_nudges_stay_within_bounds(levels: Levels, event: str, deltas: dict[str, float]) -> None:
    after = nudged(nudged(levels, event), deltas=deltas)
    assert all(0 <= getattr(after, name) <= 1 for name in NAMES)


def test_praise_warms_and_an_error_narrows() -> None:
    calm = Levels()
    assert parameters(nudged(calm, "positive_feedback")).temperature > parameters(calm).temperature
    assert parameters(nudged(calm, "error")).top_p < parameters(calm).top_p


@pytest.mark.parametrize(
    ("stored", "field"),
    [
        ({"dopamine": 1.5}, "neuromodulators.dopamine"),
        ({"dopamine": True}, "neuromodulators.dopamine"),
        ({"oxytocin": 0.5}, "neuromodulators.oxytocin"),
    ],
)
def test_bad_levels_are_refused(stored: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        Levels.of(stored)
    assert refused.value.field == field


def test_adaptation_state_sets_baseline_and_rate() -> None:
    baseline, rate = adaptation({"baseline": {"dopamine": 0.8}, "decay": 0.25})
    assert (baseline.dopamine, baseline.serotonin, rate) == (0.8, 0.5, 0.25)
    with pytest.raises(ValidationFailed) as refused:
        adaptation({"decay": 2})
    assert refused.value.field == "adaptation_state.decay"
    with pytest.raises(ValidationFailed):
        nudged(Levels(), "joy")
