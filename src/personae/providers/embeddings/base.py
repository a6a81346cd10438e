"""What every embedder is: texts in, vectors out, named by the model that made them.

Failures: `ProviderUnavailable` when it may work later (ingestion retries), `ProviderError`
when it won't."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable


@runtime_checkable
class Embedder(Protocol):
    """An embedding model."""

    provider: str
    """`hashing`, `minilm` or `openai`."""
    model: str
    """The model's name at its provider."""
    dimensions: int
    lexical: bool
    """True when the vectors only reflect shared words (the hashing embedder)."""
    batch_size: int
    """How many texts one `embed` call should be given at most."""

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One unit-length vector per text, in order."""
        ...

    async def close(self) -> None: ...


def label(embedder: Embedder) -> str:
    """What rows record as their model: `provider/model`."""
    return f"{embedder.provider}/{embedder.model}"
