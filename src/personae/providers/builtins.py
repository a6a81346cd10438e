"""The providers that come with Personae, registered as a plugin's would be: chat models
`openai` (any OpenAI-compatible endpoint), `anthropic` and the offline `echo`; embedders
`minilm` (when its extra is installed), `hashing` (always) and `openai` (when it is the
default or its endpoint is configured)."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

from personae.db.types import EMBEDDING_DIMS
from personae.plugins import hookimpl
from personae.providers.chat.anthropic import AnthropicChat
from personae.providers.chat.base import ChatModel, Endpoint
from personae.providers.chat.echo import EchoChat
from personae.providers.chat.openai_compat import OpenAIChat
from personae.providers.embeddings.base import Embedder
from personae.providers.embeddings.hashing import HashingEmbedder
from personae.providers.plugins import RegisterChat, RegisterEmbedder
from personae.settings import Settings


def _sdk(adapter: type[OpenAIChat | AnthropicChat]) -> Callable[[Endpoint], ChatModel]:
    def open_chat(endpoint: Endpoint) -> ChatModel:
        return adapter(
            base_url=endpoint.base_url,
            api_key=endpoint.api_key,
            model=endpoint.model,
            options=endpoint.options,
            prices=endpoint.prices,
            timeout_s=endpoint.timeout_s,
            max_retries=endpoint.max_retries,
        )

    return open_chat


def _echo(endpoint: Endpoint) -> ChatModel:
    return EchoChat(endpoint.model)


@hookimpl
def register_chat_models(register: RegisterChat) -> None:
    register(OpenAIChat.provider, _sdk(OpenAIChat))
    register(AnthropicChat.provider, _sdk(AnthropicChat))
    register(EchoChat.provider, _echo)


def minilm_installed(settings: Settings | None = None) -> bool:
    return importlib.util.find_spec("sentence_transformers") is not None


def _minilm(settings: Settings) -> Embedder:
    from personae.providers.embeddings.minilm import MiniLMEmbedder

    return MiniLMEmbedder(batch_size=settings.embedding_batch_size)


def _hashing(settings: Settings) -> Embedder:
    return HashingEmbedder(EMBEDDING_DIMS, batch_size=settings.embedding_batch_size)


def _openai(settings: Settings) -> Embedder:
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


def _openai_configured(settings: Settings) -> bool:
    return settings.embedder == "openai" or "embedding_base_url" in settings.model_fields_set


@hookimpl
def register_embedders(register: RegisterEmbedder) -> None:
    register("minilm", _minilm, available=minilm_installed)
    register("hashing", _hashing)
    register("openai", _openai, available=_openai_configured)
