"""What the adapters over a provider's SDK share: the model, its options and prices, the
SDK's async client (`openai` and `anthropic` take the same arguments), and completions
priced as they are made."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from personae.providers.chat.base import Completion, Prices, ToolCall


class SDKChat:
    provider: str

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
        self._client = self._client_class()(
            base_url=base_url,
            api_key=api_key or "not-needed",  # local servers take none; the SDKs want one
            timeout=timeout_s,
            max_retries=max_retries,
        )

    def _client_class(self) -> Any:
        """The SDK's async client class."""
        raise NotImplementedError

    def _completion(
        self,
        text: str,
        model: str,
        usage: tuple[int, int],
        calls: tuple[ToolCall, ...],
        finish: str | None,
    ) -> Completion:
        """The answer with its usage, and its cost when the prices are known."""
        return Completion(
            text=text,
            model=model,
            input_tokens=usage[0],
            output_tokens=usage[1],
            cost_usd=None if self._prices is None else self._prices.of(*usage),
            tool_calls=calls,
            finish_reason=finish,
        )

    async def close(self) -> None:
        await self._client.close()
