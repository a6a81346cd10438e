"""What every chat model adapter offers: messages in, a completion out, with its usage."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class Message:
    role: Role
    content: str


@dataclass(frozen=True)
class Prices:
    """US dollars per million input and output tokens."""

    input_per_mtok: float
    output_per_mtok: float

    def of(self, input_tokens: int, output_tokens: int) -> float:
        spent = input_tokens * self.input_per_mtok + output_tokens * self.output_per_mtok
        return round(spent / 1_000_000, 8)


@dataclass(frozen=True)
class Completion:
    text: str
    model: str
    input_tokens: int
    output_tokens: int
    cost_usd: float | None = None
    """None when the model's prices are not known."""

    def usage(self) -> dict[str, Any]:
        """What the call spent, as recorded beside its work."""
        return {
            "model": self.model,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": self.cost_usd,
        }


def spent(usages: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The total of several calls' `Completion.usage()` (a cost only if all are known)."""
    calls = [usage for usage in usages if "input_tokens" in usage]
    costs = [usage.get("cost_usd") for usage in calls]
    return {
        "calls": len(calls),
        "input_tokens": sum(usage["input_tokens"] for usage in calls),
        "output_tokens": sum(usage["output_tokens"] for usage in calls),
        "cost_usd": None if None in costs else round(sum(c for c in costs if c), 8),
    }


class ChatModel(Protocol):
    provider: str
    model: str

    async def complete(
        self, messages: Sequence[Message], *, max_tokens: int | None = None
    ) -> Completion:
        """The model's answer to `messages`. Raises `ProviderUnavailable` when the
        provider can't answer now (retry later), `ProviderError` when it answered wrongly."""
        ...

    async def close(self) -> None: ...
