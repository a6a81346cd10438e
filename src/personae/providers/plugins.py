"""Chat model and embedder providers, registered through plugins (`personae.plugins`); the
built-ins (`providers.builtins`) register through the same hooks.

    from personae.plugins import PluginManager, hookimpl

    @hookimpl
    def register_chat_models(register):
        register("mistral", lambda endpoint: MistralChat(endpoint))

    @hookimpl
    def register_embedders(register):
        register("e5", lambda settings: E5Embedder(settings), available=lambda s: True)

A name registered twice is refused; an unknown name is refused with the list of known ones
(a model config's `provider` when written, `PERSONAE_EMBEDDER` when the app starts)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from personae.plugins import PluginManager, hookspec, manager
from personae.providers.chat.base import ChatModel, Endpoint
from personae.providers.embeddings.base import Embedder
from personae.settings import Settings

ChatOpener = Callable[[Endpoint], ChatModel]
EmbedderOpener = Callable[[Settings], Embedder]


def _always(settings: Settings) -> bool:
    return True


@dataclass(frozen=True)
class EmbedderProvider:
    name: str
    open: EmbedderOpener
    available: Callable[[Settings], bool] = _always
    """Whether this installation runs it (its extra installed, its endpoint configured)."""


class RegisterChat(Protocol):
    def __call__(self, name: str, opener: ChatOpener) -> None: ...


class RegisterEmbedder(Protocol):
    def __call__(
        self,
        name: str,
        opener: EmbedderOpener,
        *,
        available: Callable[[Settings], bool] = _always,
    ) -> None: ...


class Specs:
    @hookspec
    def register_chat_models(self, register: RegisterChat) -> None:
        """Call `register(provider, opener)`: `opener(endpoint)` makes a `ChatModel`."""

    @hookspec
    def register_embedders(self, register: RegisterEmbedder) -> None:
        """Call `register(provider, opener, available=…)`: `opener(settings)` makes an
        `Embedder`, if `available(settings)`."""


@lru_cache(maxsize=1)
def plugins() -> PluginManager:
    from personae.providers import builtins

    return manager(Specs, builtins)


def chat_models(plugins_: PluginManager | None = None) -> dict[str, ChatOpener]:
    """Every chat provider by name (the installed ones unless `plugins_` says)."""
    return _installed_chat_models() if plugins_ is None else _chat_models(plugins_)


def embedders(plugins_: PluginManager | None = None) -> dict[str, EmbedderProvider]:
    """Every embedder provider by name, in the order registered."""
    return _installed_embedders() if plugins_ is None else _embedders(plugins_)


@lru_cache(maxsize=1)
def _installed_chat_models() -> dict[str, ChatOpener]:
    return _chat_models(plugins())


@lru_cache(maxsize=1)
def _installed_embedders() -> dict[str, EmbedderProvider]:
    return _embedders(plugins())


def _chat_models(plugins_: PluginManager) -> dict[str, ChatOpener]:
    openers: dict[str, ChatOpener] = {}

    def register(name: str, opener: ChatOpener) -> None:
        if name in openers:
            raise ValueError(f"two plugins register a chat provider named {name!r}")
        openers[name] = opener

    plugins_.hook.register_chat_models(register=register)
    return openers


def _embedders(plugins_: PluginManager) -> dict[str, EmbedderProvider]:
    providers: dict[str, EmbedderProvider] = {}

    def register(
        name: str, opener: EmbedderOpener, *, available: Callable[[Settings], bool] = _always
    ) -> None:
        if name in providers:
            raise ValueError(f"two plugins register an embedder named {name!r}")
        providers[name] = EmbedderProvider(name, opener, available)

    plugins_.hook.register_embedders(register=register)
    return providers
