"""Embedding models behind one interface (`Embedder`): `minilm`, `hashing`, `openai`."""

from __future__ import annotations

import importlib.util

from personae.db.types import EMBEDDING_DIMS
from personae.providers.embeddings.base import Embedder, label
from personae.providers.embeddings.hashing import HashingEmbedder
from personae.settings import Settings

__all__ = ["Embedder", "Embedders", "HashingEmbedder", "label", "open_embedder"]
PROVIDERS = ("minilm", "hashing", "openai")


def _minilm_installed() -> bool:
    return importlib.util.find_spec("sentence_transformers") is not None


def open_embedder(settings: Settings, provider: str | None = None) -> Embedder:
    """The embedder of `provider`, or the one the settings name (`auto`: minilm when its
    extra is installed)."""
    choice = provider or settings.embedder
    if choice == "auto":
        choice = "minilm" if _minilm_installed() else "hashing"
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


class Embedders:
    """The embedders this installation runs, each opened once on first use: `default`
    (`PERSONAE_EMBEDDER`), `hashing` always, `minilm` when installed, and `openai` when
    it is the default or an endpoint is configured (`PERSONAE_EMBEDDING_BASE_URL`)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._open: dict[str, Embedder] = {}

    @property
    def default(self) -> Embedder:
        return self.get(self._settings.embedder)

    def providers(self) -> list[str]:
        offered = {"hashing", self.default.provider}
        if _minilm_installed():
            offered.add("minilm")
        if "embedding_base_url" in self._settings.model_fields_set:
            offered.add("openai")
        return [p for p in PROVIDERS if p in offered]

    def get(self, provider: str) -> Embedder:
        """The embedder of `provider` (or `auto`)."""
        if provider == "auto":
            provider = "minilm" if _minilm_installed() else "hashing"
        if provider not in self._open:
            self._open[provider] = open_embedder(self._settings, provider)
        return self._open[provider]

    def named(self, model: str) -> Embedder | None:
        """The embedder whose rows are labelled `model` (`provider/model`), if it runs here."""
        provider = model.partition("/")[0]
        if provider not in self.providers():
            return None
        embedder = self.get(provider)
        return embedder if label(embedder) == model else None

    async def close(self) -> None:
        for embedder in self._open.values():
            await embedder.close()
        self._open.clear()
