"""A circuit breaker per tool: after `threshold` failures in a row that trying again could
have helped, calls fail fast for `cooldown_s`; then one trial call may pass, and its
outcome closes the circuit or opens it again.

A circuit belongs to one version of a tool (its id and when it last changed), so fixing
a tool starts it afresh. Circuits live in the shared cache (a Redis-protocol server), so
every server process sees the same ones; with none configured, or while it is down, each
process judges for itself. A trial call holds the circuit for at most `cooldown_s`, so one
lost with its process does not keep the circuit shut."""

from __future__ import annotations

from personae.cache import Guarded, MemoryStore
from personae.cache.stores import Circuit

MAX_LOCAL_CIRCUITS = 10_000
CIRCUITS = "circuit:*"
"""The cache keys of every circuit."""


class Breakers:
    def __init__(self, cache: Guarded, threshold: int, cooldown_s: float) -> None:
        self.cache, self.threshold, self.cooldown_s = cache, threshold, cooldown_s
        self._local = MemoryStore(MAX_LOCAL_CIRCUITS)

    async def refusal(self, circuit: str) -> str | None:
        """Why a call must not go through now, or None (taking the trial when it is due)."""
        failures, wait = await self._step(circuit, "ask")
        if not failures:
            return None
        left = f"{wait:.1f} s" if wait > 0 else "a trial call"
        return f"the circuit is open after {failures} failures (waiting {left})"

    async def succeeded(self, circuit: str) -> None:
        await self._step(circuit, "succeeded")

    async def failed(self, circuit: str) -> None:
        await self._step(circuit, "failed")

    async def released(self, circuit: str) -> None:
        """A call that neither succeeded nor failed in a way that counts ended."""
        await self._step(circuit, "released")

    async def close(self) -> None:
        await self.cache.close()

    async def _step(self, circuit: str, event: Circuit) -> tuple[int, float]:
        key = f"circuit:{circuit}"
        found = await self.cache.circuit(key, event, self.threshold, self.cooldown_s)
        if found is None:  # the shared store is down: this process judges alone
            found = await self._local.circuit(key, event, self.threshold, self.cooldown_s)
        return found
