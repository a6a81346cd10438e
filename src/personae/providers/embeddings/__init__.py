"""Embedding models behind one interface (`Embedder`); which exist is up to the plugins
(`providers.plugins`: `minilm`, `hashing` and `openai` are built in)."""

from __future__ import annotations

from personae.errors import ConfigurationError
from personae.providers.embeddings.base import Embedder, label
from personae.providers.embeddings.hashing import HashingEmbedder
from personae.settings import Settings

__all__ = ["Embedder", "Embedders", "HashingEmbedder", "label", "open_embedder"]


def open_embedder(settings: Settings, provider: str | None = None) -> Embedder:
    """The embedder of `provider`, or the one the settings name (`auto`: minilm when its
    extra is installed, else hashing). An unknown name is a ConfigurationError."""
    from personae.plugins import unknown
    from personae.providers.plugins import embedders

    known = embedders()
    choice = _resolved(provider or settings.embedder)
    if choice not in known:
        raise ConfigurationError(unknown("embedder", choice, known) + " (PERSONAE_EMBEDDER)")
    return known[choice].open(settings)


def _resolved(choice: str) -> str:
    if choice != "auto":
        return choice
    from personae.providers.builtins import minilm_installed

    return "minilm" if minilm_installed() else "hashing"


class Embedders:
    """The embedders this installation runs, each opened once on first use: `default`
    (`PERSONAE_EMBEDDER`) and every provider available here (`hashing` always, `minilm`
    when installed, `openai` when it is the default or its endpoint is configured)."""

    def __init__(self, settings: Settings) -> None:
        """Refuses (ConfigurationError) a default no plugin registers."""
        from personae.plugins import unknown
        from personae.providers.plugins import embedders

        if (default := _resolved(settings.embedder)) not in embedders():
            raise ConfigurationError(
                unknown("embedder", default, embedders()) + " (PERSONAE_EMBEDDER)"
            )
        self._settings = settings
        self._open: dict[str, Embedder] = {}

    @property
    def default(self) -> Embedder:
        return self.get(self._settings.embedder)

    def providers(self) -> list[str]:
        from personae.providers.plugins import embedders

        default = self.default.provider
        return [
            name
            for name, provider in embedders().items()
            if name == default or provider.available(self._settings)
        ]

    def get(self, provider: str) -> Embedder:
        """The embedder of `provider` (or `auto`)."""
        provider = _resolved(provider)
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
