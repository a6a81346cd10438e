"""Embedding models behind one interface (`Embedder`): `minilm`, `hashing`, `openai`."""

from __future__ import annotations

import importlib.util

from personae.db.types import EMBEDDING_DIMS
from personae.providers.embeddings.base import Embedder, label
from personae.providers.embeddings.hashing import HashingEmbedder
from personae.settings import Settings

__all__ = ["Embedder", "HashingEmbedder", "label", "open_embedder"]


def open_embedder(settings: Settings) -> Embedder:
    """The embedder the settings name (`auto`: minilm when its extra is installed)."""
    choice = settings.embedder
    if choice == "auto":
        installed = importlib.util.find_spec("sentence_transformers") is not None
        choice = "minilm" if installed else "hashing"
    if choice == "minilm":
        from personae.providers.embeddings.minilm import MiniLMEmbedder

        return MiniLMEmbedder(batch_size=settings.embedding_batch_size)
    if choice == "openai":
        from personae.providers.embeddings.openai_compat import OpenAIEmbedder

        key = settings.embedding_api_key
        return OpenAIEmbedder(
            base_url=settings.embedding_base_url,
            api_key=None if key is None else key.get_secret_value(),
            model=settings.embedding_model,
            dimensions=EMBEDDING_DIMS,
            batch_size=settings.embedding_batch_size,
            timeout_s=settings.embedding_timeout_s,
            max_retries=settings.embedding_max_retries,
            requests_per_minute=settings.embedding_requests_per_minute,
            request_dimensions=settings.embedding_request_dimensions,
        )
    return HashingEmbedder(EMBEDDING_DIMS, batch_size=settings.embedding_batch_size)
