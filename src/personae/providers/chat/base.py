"""What every chat model adapter offers: messages (and the tools the model may call) in;
a completion out, whole or streamed token by token, with its usage."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: str
    """JSON text, as the model wrote it (it may not parse: the caller checks)."""


@dataclass(frozen=True)
class Message:
    role: Role
    content: str
    tool_calls: tuple[ToolCall, ...] = ()
    """The calls an assistant message asks for."""
    tool_call_id: str | None = None
    """The call a tool message answers."""
    images: tuple[str, ...] = ()
    """Images a user message shows, as URLs (`https:` or `data:`), for models with vision."""


@dataclass(frozen=True)
class Request:
    """What a call sends besides the messages."""

    tools: Sequence[Mapping[str, Any]] = ()
    """OpenAI function schemas the model may call."""
    max_tokens: int | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    """Sampling parameters (temperature, top_p, …) over the model config's own."""
    tool_choice: str | Mapping[str, Any] | None = None
    """OpenAI's: `auto`, `none`, `required` or `{"type": "function", "function": {"name"}}`;
    None: the provider's default."""
    parallel_tool_calls: bool | None = None
    response_format: Mapping[str, Any] | None = None
    """OpenAI's `response_format`, for models that take it (the caller checks the answer)."""


@dataclass(frozen=True)
class Prices:
    """US dollars per million input and output tokens."""

    input_per_mtok: float
    output_per_mtok: float

    def of(self, input_tokens: int, output_tokens: int) -> float:
        spent = input_tokens * self.input_per_mtok + output_tokens * self.output_per_mtok
        return round(spent / 1_000_000, 8)


@dataclass(frozen=True)
class Endpoint:
    """What opening a chat model takes: a model config, its key revealed."""

    model: str
    base_url: str | None = None
    api_key: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    """The config's `kwargs`: sent with every call."""
    prices: Prices | None = None
    timeout_s: float = 60.0
    max_retries: int = 2


@dataclass(frozen=True)
class Completion:
    text: str
    model: str
    input_tokens: int
    output_tokens: int
    cost_usd: float | None = None
    """None when the model's prices are not known."""
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: str | None = None

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
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int | None = None,
        request: Request | None = None,
    ) -> Completion:
        """The model's answer to `messages`. Raises `ProviderUnavailable` when the
        provider can't answer now (retry later), `ProviderError` when it answered wrongly."""
        ...

    def stream(
        self, messages: Sequence[Message], request: Request | None = None
    ) -> AsyncIterator[str | Completion]:
        """The answer as it is produced: text pieces, then the whole `Completion` (with
        its usage and tool calls) last. Fails as `complete` does; a failure before the
        first piece can be tried elsewhere, one after it cannot be undone."""
        ...

    async def close(self) -> None: ...
