"""Neuromodulators: a persona's mood, as four levels between 0 and 1, and how they set its
generation parameters.

    dopamine       reward, exploration     -> temperature up, presence penalty up
    serotonin      patience, stability     -> temperature down
    noradrenaline  arousal, focus          -> top_p down above the middle
    acetylcholine  attention, learning     -> how many memories are retrieved

The rule (`parameters`):

    temperature      = 0.2 + dopamine * (1 - serotonin / 2)          in [0.2, 1.2]
    top_p            = 1 - 0.4 * max(0, 2 * noradrenaline - 1)       in [0.6, 1.0]
    presence_penalty = 0.6 * (dopamine - 0.5)                        in [-0.3, 0.3]
    memory_k         = round(3 + 12 * acetylcholine)                 in [3, 15]

At the default levels (all 0.5): temperature 0.575, top_p 1.0, presence penalty 0,
memory_k 9. Each turn the levels decay toward the persona's baseline by its adaptation
rate (`decay`, 0.1 unless `adaptation_state` says otherwise); events nudge them (`EVENTS`),
always within [0, 1]."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from personae.errors import ValidationFailed

NAMES = ("dopamine", "serotonin", "noradrenaline", "acetylcholine")
DEFAULT_DECAY = 0.1
EVENTS: dict[str, dict[str, float]] = {
    "positive_feedback": {"dopamine": 0.15, "serotonin": 0.05},
    "negative_feedback": {"dopamine": -0.1, "serotonin": -0.1, "noradrenaline": 0.1},
    "error": {"noradrenaline": 0.15, "serotonin": -0.05},
    "urgent": {"noradrenaline": 0.2},
    "novelty": {"acetylcholine": 0.1, "dopamine": 0.05},
    "calm": {"noradrenaline": -0.15, "serotonin": 0.1},
}
"""What each event changes (added, then bounded)."""


def _bounded(value: float) -> float:
    return min(1.0, max(0.0, value))


@dataclass(frozen=True)
class Levels:
    dopamine: float = 0.5
    serotonin: float = 0.5
    noradrenaline: float = 0.5
    acetylcholine: float = 0.5

    @classmethod
    def of(cls, stored: Mapping[str, Any] | None, field: str = "neuromodulators") -> Levels:
        """Levels from a stored mapping (missing names at 0.5); 422 for one out of [0, 1]."""
        values: dict[str, float] = {}
        for name, value in (stored or {}).items():
            if name not in NAMES:
                raise ValidationFailed(f"one of {', '.join(NAMES)}", field=f"{field}.{name}")
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise ValidationFailed("a level between 0 and 1", field=f"{field}.{name}")
            values[name] = float(value)
        return cls(**values)

    def stored(self) -> dict[str, float]:
        return {k: round(v, 6) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class Parameters:
    temperature: float
    top_p: float
    presence_penalty: float
    memory_k: int

    def sampling(self) -> dict[str, float]:
        """What goes to the model with the request."""
        return {
            "temperature": self.temperature,
            "top_p": self.top_p,
            "presence_penalty": self.presence_penalty,
        }


def parameters(levels: Levels) -> Parameters:
    """The generation parameters the levels set (see the module's rule)."""
    return Parameters(
        temperature=round(0.2 + levels.dopamine * (1 - levels.serotonin / 2), 4),
        top_p=round(1 - 0.4 * max(0.0, 2 * levels.noradrenaline - 1), 4),
        presence_penalty=round(0.6 * (levels.dopamine - 0.5), 4),
        memory_k=round(3 + 12 * levels.acetylcholine),
    )


def decayed(levels: Levels, baseline: Levels, rate: float = DEFAULT_DECAY) -> Levels:
    """One turn's drift toward the baseline: each level moves `rate` of the way."""
    rate = _bounded(rate)
    moved = {
        name: getattr(levels, name) + rate * (getattr(baseline, name) - getattr(levels, name))
        for name in NAMES
    }
    return Levels(**{name: _bounded(value) for name, value in moved.items()})


def nudged(
    levels: Levels, event: str | None = None, deltas: Mapping[str, float] | None = None
) -> Levels:
    """The levels after `event` (one of `EVENTS`) or explicit `deltas`, bounded to [0, 1]."""
    if event is not None and event not in EVENTS:
        raise ValidationFailed(f"one of {', '.join(EVENTS)}", field="event")
    change = dict(EVENTS[event]) if event is not None else {}
    for name, delta in (deltas or {}).items():
        if name not in NAMES:
            raise ValidationFailed(f"one of {', '.join(NAMES)}", field=f"deltas.{name}")
        change[name] = change.get(name, 0.0) + delta
    return replace(
        levels, **{name: _bounded(getattr(levels, name) + d) for name, d in change.items()}
    )


def adaptation(state: Mapping[str, Any] | None) -> tuple[Levels, float]:
    """The baseline and decay rate a persona's `adaptation_state` sets (defaults: every
    level at 0.5, rate 0.1)."""
    state = state or {}
    rate = state.get("decay", DEFAULT_DECAY)
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
        raise ValidationFailed("a rate between 0 and 1", field="adaptation_state.decay")
    return Levels.of(state.get("baseline"), "adaptation_state.baseline"), float(rate)
