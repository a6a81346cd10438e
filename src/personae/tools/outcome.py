"""How one attempt at running a tool went, whatever kind of tool it is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Outcome:
    status: str
    """succeeded, failed, denied or timed_out."""
    value: Any = None
    error: str | None = None
    logs: str = ""
    """What the tool printed (python tools, up to the cap)."""
    retryable: bool = False
    """Whether trying again could help (the tool raised, a server was down), unlike a
    refusal, a limit reached or bad arguments."""

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"
