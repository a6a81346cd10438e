"""A circuit breaker per tool: after `threshold` failures in a row that trying again could
have helped, calls fail fast for `cooldown_s`; then one trial call may pass, and its
outcome closes the circuit or opens it again.

A circuit belongs to one version of a tool (its id and when it last changed), so fixing
a tool starts it afresh. Circuits live in the process: each server process judges for
itself, and a restart closes them all."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

MAX_CIRCUITS = 10_000


@dataclass
class _Circuit:
    failures: int = 0
    open_until: float = 0.0
    trial: bool = False
    """Whether the one call allowed after the cooldown is under way."""


class Breakers:
    def __init__(
        self,
        threshold: int,
        cooldown_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold, self.cooldown_s, self._clock = threshold, cooldown_s, clock
        self._circuits: OrderedDict[Hashable, _Circuit] = OrderedDict()

    def refusal(self, key: Hashable) -> str | None:
        """Why a call must not go through now, or None (taking the trial when it is due)."""
        circuit = self._circuits.get(key)
        if circuit is None or circuit.failures < self.threshold:
            return None
        wait = circuit.open_until - self._clock()
        if wait > 0 or circuit.trial:
            left = f"{max(wait, 0):.1f} s" if not circuit.trial else "a trial call"
            return f"the circuit is open after {circuit.failures} failures (waiting {left})"
        circuit.trial = True
        return None

    def succeeded(self, key: Hashable) -> None:
        self._circuits.pop(key, None)

    def failed(self, key: Hashable) -> None:
        circuit = self._circuits.setdefault(key, _Circuit())
        self._circuits.move_to_end(key)
        circuit.failures += 1
        circuit.trial = False
        if circuit.failures >= self.threshold:
            circuit.open_until = self._clock() + self.cooldown_s
        while len(self._circuits) > MAX_CIRCUITS:
            self._circuits.popitem(last=False)

    def released(self, key: Hashable) -> None:
        """A call that neither succeeded nor failed in a way that counts ended."""
        circuit = self._circuits.get(key)
        if circuit is not None:
            circuit.trial = False
