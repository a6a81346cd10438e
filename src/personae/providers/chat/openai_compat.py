"""Any OpenAI-compatible `/chat/completions` endpoint (OpenAI, Ollama, vLLM, OpenRouter),
through the `openai` SDK, with its retries and backoff."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import openai

from personae.errors import ProviderError
from personae.providers.chat.base import Completion, Message, Prices
from personae.providers.openai_errors import translated


class OpenAIChat:
    provider = "openai"

    def __init__(
        self,
        *,
        base_url: str | None,
        api_key: str | None,
        model: str,
        timeout_s: float = 60.0,
        max_retries: int = 2,
        options: Mapping[str, Any] | None = None,
        prices: Prices | None = None,
    ) -> None:
        self.model = model
        self._prices = prices
        self._options = dict(options or {})
        self._client = openai.AsyncOpenAI(
            base_url=base_url,
            api_key=api_key or "not-needed",  # local servers take none; the SDK wants one
            timeout=timeout_s,
            max_retries=max_retries,
        )

    async def complete(
        self, messages: Sequence[Message], *, max_tokens: int | None = None
    ) -> Completion:
        with translated(f"the chat endpoint ({self.model})"):
            answer = await self._client.chat.completions.create(
                model=self.model,
                messages=[{"role": m.role, "content": m.content} for m in messages],  # type: ignore[misc]
                max_tokens=max_tokens if max_tokens is not None else openai.omit,
                extra_body=self._options or None,  # the config's own (temperature, …)
            )
        if not answer.choices or answer.choices[0].message.content is None:
            raise ProviderError(f"{self.model} answered with no text")
        usage = answer.usage
        input_tokens = usage.prompt_tokens if usage else 0
        output_tokens = usage.completion_tokens if usage else 0
        return Completion(
            text=answer.choices[0].message.content,
            model=answer.model or self.model,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cost_usd=None if self._prices is None else self._prices.of(input_tokens, output_tokens),
        )

    async def close(self) -> None:
        await self._client.close()
