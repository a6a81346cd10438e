"""Any OpenAI-compatible `/embeddings` endpoint (OpenAI, Ollama, vLLM, TEI), through the
`openai` SDK: batches of `batch_size`, the SDK's retries with backoff (honouring
Retry-After), a per-process request rate limit, and answers checked for size."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence

import openai

from personae.errors import ProviderError
from personae.providers.sdk_errors import translated


class RequestPace:
    """At most `per_minute` requests from this process, spaced evenly (0: no limit)."""

    def __init__(self, per_minute: int) -> None:
        self.interval = 60.0 / per_minute if per_minute > 0 else 0.0
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        if not self.interval:
            return
        async with self._lock:
            delay = self._next - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self._next = max(self._next, time.monotonic()) + self.interval


class OpenAIEmbedder:
    provider = "openai"
    lexical = False

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str | None,
        model: str,
        dimensions: int,
        batch_size: int = 64,
        timeout_s: float = 30.0,
        max_retries: int = 2,
        requests_per_minute: int = 0,
        request_dimensions: bool = False,
    ) -> None:
        self.model = model
        self.dimensions = dimensions
        self.batch_size = batch_size
        self._request_dimensions = request_dimensions
        self._pace = RequestPace(requests_per_minute)
        self._client = openai.AsyncOpenAI(
            base_url=base_url,
            api_key=api_key or "not-needed",  # local servers take none; the SDK wants one
            timeout=timeout_s,
            max_retries=max_retries,
        )

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            vectors += await self._batch(list(texts[start : start + self.batch_size]))
        return vectors

    async def _batch(self, texts: list[str]) -> list[list[float]]:
        await self._pace.wait()
        with translated("the embedding endpoint"):
            answer = await self._client.embeddings.create(
                model=self.model,
                input=texts,
                encoding_format="float",
                dimensions=self.dimensions if self._request_dimensions else openai.omit,
            )
        rows = sorted(answer.data, key=lambda row: row.index)
        if len(rows) != len(texts):
            raise ProviderError(f"asked for {len(texts)} embeddings, got {len(rows)}")
        return [self._checked(row.embedding) for row in rows]

    def _checked(self, vector: list[float]) -> list[float]:
        if len(vector) != self.dimensions:
            raise ProviderError(
                f"{self.model} returns {len(vector)} dimensions; Personae stores "
                f"{self.dimensions}: pick a model of that size, or one that accepts "
                "`dimensions` (PERSONAE_EMBEDDING_REQUEST_DIMENSIONS=true)"
            )
        norm = math.sqrt(sum(x * x for x in vector))
        return [x / norm for x in vector] if norm else vector

    async def close(self) -> None:
        await self._client.close()
