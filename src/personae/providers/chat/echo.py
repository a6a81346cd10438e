"""`echo`: a built-in model that needs no key and no network, for first steps, demos and
checks of a deployment. It is no language model: it answers, labelled as an echo, with
the last user message and what the prompt held (how many memories and documents), word by
word when streamed. Make it a model config with `"provider": "echo"` (any `model_name`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

from personae.providers.chat.base import Completion, Message, Request

LABEL = "[echo model, no language model]"


class EchoChat:
    provider = "echo"

    def __init__(self, model: str = "echo", *, word_delay_s: float = 0.02) -> None:
        self.model = model
        self.word_delay_s = word_delay_s

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int | None = None,
        request: Request | None = None,
    ) -> Completion:
        text = _answer(messages)
        return Completion(
            text,
            self.model,
            sum(len(m.content.split()) for m in messages),
            len(text.split()),
            cost_usd=0.0,
            finish_reason="stop",
        )

    async def stream(
        self, messages: Sequence[Message], request: Request | None = None
    ) -> AsyncIterator[str | Completion]:
        whole = await self.complete(messages, request=request)
        words = whole.text.split(" ")
        for index, word in enumerate(words):
            yield word if index == len(words) - 1 else word + " "
            await asyncio.sleep(self.word_delay_s)
        yield whole

    async def close(self) -> None:
        return None


def _answer(messages: Sequence[Message]) -> str:
    asked = next((m.content for m in reversed(messages) if m.role == "user"), "")
    system = next((m.content for m in messages if m.role == "system"), "")
    earlier = sum(1 for m in messages if m.role in ("user", "assistant")) - 1
    return (
        f"{LABEL} You said: {asked.strip() or '(nothing)'} "
        f"(the prompt held {len(system.split())} words of instructions and context, and "
        f"{max(earlier, 0)} earlier messages)"
    )
