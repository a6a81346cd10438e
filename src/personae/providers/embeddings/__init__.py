"""Embedding models behind one interface (`Embedder`); which exist is up to the plugins
(`providers.plugins`: `minilm`, `hashing` and `openai` are built in)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from personae.errors import ConfigurationError
from personae.providers.embeddings.base import Embedder, label
from personae.providers.embeddings.hashing import HashingEmbedder
from personae.settings import Settings

if TYPE_CHECKING:
    from personae.providers.plugins import EmbedderProvider

__all__ = ["Embedder", "Embedders", "HashingEmbedder", "label", "open_embedder"]


def open_embedder(settings: Settings, provider: str | None = None) -> Embedder:
    """The embedder of `provider`, or the one the settings name (`auto`: minilm when its
    extra is installed, else hashing). An unknown name is a ConfigurationError."""
    return _registered(provider or settings.embedder).open(settings)


def _registered(choice: str) -> EmbedderProvider:
    """The plugin registered as `choice` (or `auto`); ConfigurationError naming those that
    are when none is."""
    from personae.plugins import unknown
    from personae.providers.plugins import embedders

    known, name = embedders(), _resolved(choice)
    if name not in known:
        raise ConfigurationError(unknown("embedder", name, known) + " (PERSONAE_EMBEDDER)")
    return known[name]


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
        _registered(settings.embedder)
        self._settings = settings
        self._open: dict[str, Embedder] = {}

    @property
    def default(self) -> Embedder:
        return self.get(self._settings.embedder)

    def providers(self) -> list[str]:
        from personae.providers.plugins import embedders

        default = _resolved(self._settings.embedder)  # its name, without opening it
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
