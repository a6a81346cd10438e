"""What every chat model adapter offers: messages in, a completion out, with its usage."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class Message:
    role: Role
    content: str


@dataclass(frozen=True)
class Completion:
    text: str
    model: str
    input_tokens: int
    output_tokens: int


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
