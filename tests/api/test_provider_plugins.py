"""Chat models and embedders come from plugins, the built-ins among them: a plugin's chat
provider answers a persona's turn, and a name no plugin registers is refused with the
names that are."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import pytest

from personae.db.engine import DatabaseUrls
from personae.errors import ConfigurationError
from personae.plugins import hookimpl
from personae.providers import plugins
from personae.providers.chat import Completion, Endpoint, Message, Request
from personae.providers.embeddings import Embedders, open_embedder
from personae.settings import Settings
from tests.api.conftest import bearer, running_app


class ShoutingChat:
    """Answers with the user's last message in capitals."""

    provider = "shouting"

    def __init__(self, endpoint: Endpoint) -> None:
        self.model = endpoint.model

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int | None = None,
        request: Request | None = None,
    ) -> Completion:
        asked = next(m.content for m in reversed(messages) if m.role == "user")
        return Completion(asked.upper(), self.model, 1, 1, finish_reason="stop")

    async def stream(
        self, messages: Sequence[Message], request: Request | None = None
    ) -> AsyncIterator[str | Completion]:
        whole = await self.complete(messages, request=request)
        yield whole.text
        yield whole

    async def close(self) -> None:
        return None


class Shouting:
    @hookimpl
    def register_chat_models(self, register: Any) -> None:
        register("shouting", ShoutingChat)


@pytest.fixture
def shouting() -> Iterator[None]:
    manager, plugin = plugins.plugins(), Shouting()
    manager.register(plugin)
    plugins._installed_chat_models.cache_clear()
    try:
        yield
    finally:
        manager.unregister(plugin)
        plugins._installed_chat_models.cache_clear()


async def test_a_plugins_chat_model_answers_a_turn(
    urls: DatabaseUrls, fresh_owner: tuple[str, str], shouting: None
) -> None:
    async with running_app(urls) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        config = await client.post(
            "/v1/model-configs",
            headers=auth,
            json={"name": "loud", "provider": "shouting", "model_name": "megaphone"},
        )
        assert config.status_code == 201, config.text
        persona = await client.post(
            "/v1/personas", headers=auth, json={"name": "Herald", "default_provider": "loud"}
        )
        session = await client.post(
            "/v1/sessions", headers=auth, json={"persona_id": persona.json()["id"]}
        )
        done = await client.post(
            f"/v1/sessions/{session.json()['id']}/messages",
            headers=auth,
            json={"content": "hear ye"},
        )
        assert done.status_code == 200, done.text
        assert done.json()["content"] == "HEAR YE"


async def test_an_unknown_chat_provider_is_refused_with_the_known_ones(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    async with running_app(urls) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        refused = await client.post(
            "/v1/model-configs",
            headers=auth,
            json={"name": "local", "provider": "ollama", "model_name": "llama3"},
        )
    assert refused.status_code == 422
    [error] = refused.json()["errors"]
    assert error["field"] == "provider"
    assert "'ollama'" in error["message"] and "anthropic, echo, openai" in error["message"]


def test_two_plugins_may_not_register_one_name() -> None:
    class Again:
        @hookimpl
        def register_chat_models(self, register: Any) -> None:
            register("echo", ShoutingChat)

    manager = plugins.plugins()
    again = Again()
    manager.register(again)
    try:
        with pytest.raises(ValueError, match="'echo'"):
            plugins.chat_models(manager)
    finally:
        manager.unregister(again)


def test_the_built_in_embedders_and_an_unknown_one() -> None:
    assert list(plugins.embedders()) == ["minilm", "hashing", "openai"]
    assert Embedders(Settings(embedder="hashing")).default.provider == "hashing"
    with pytest.raises(ConfigurationError, match=r"'fasttext'.*hashing, minilm, openai"):
        open_embedder(Settings(embedder="fasttext"))
