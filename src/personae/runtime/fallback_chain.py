"""The fallback chain: the model configs a persona's call tries in turn, each within its
rate limits, every attempt recorded.

The chain is the agent's models when it names them (`default_model`, then
`fallback_models`), else the persona's (`default_provider`, then `fallback_providers`):
names of the tenant's chat model configs. A provider that cannot answer now (timeout,
connection error, 5xx, 429) passes the call to the next; one that refuses it (4xx) ends
it. A stream falls back only before its first piece: what was sent cannot be taken back.

Before each call, the config's `rpm` and `tpm` are spent in a sliding window shared by
every process (the cache store; this process's memory while it is down): a call waits
for room rather than exceed them, up to `max_wait_s`, past which the next model is tried."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from personae.cache import Guarded, MemoryStore
from personae.errors import Conflict, ProviderError, ProviderUnavailable
from personae.personas.models import Agent, Persona
from personae.providers.chat import ChatModel, Completion, Message, Request
from personae.settings_store.model_configs import open_chat
from personae.settings_store.models import ModelConfig
from personae.vault.models import Secret
from personae.vault.service import Vault

DEFAULT_PROVIDER = "openai"
"""A persona's `default_provider` unless set: the tenant's first chat model config."""


@dataclass(frozen=True)
class Link:
    """One model config of the chain, opened."""

    config_id: uuid.UUID
    name: str
    model: ChatModel
    rpm: int | None = None
    tpm: int | None = None
    context_length: int | None = None
    vision: bool = False
    """Whether the model reads images."""


@dataclass(frozen=True)
class Attempt:
    config: str
    model: str
    outcome: str
    """answered, unavailable (the next was tried) or refused."""
    error: str | None
    waited_ms: int
    """Time spent waiting for the rate limits."""
    duration_ms: int


class Limiter:
    """Each model config's rpm and tpm, spent before its calls."""

    def __init__(self, cache: Guarded, *, window_s: float = 60.0, max_wait_s: float = 120.0):
        self.cache, self.window_s, self.max_wait_s = cache, window_s, max_wait_s
        self._local = MemoryStore(10_000)

    async def admit(self, link: Link, tokens: int) -> float:
        """Wait until the call fits the config's limits; the seconds waited. Raises
        ProviderUnavailable when that would pass `max_wait_s`."""
        waited = 0.0
        for name, limit, cost in (("rpm", link.rpm, 1), ("tpm", link.tpm, tokens)):
            if limit is None:
                continue
            key = f"model-rate:{link.config_id}:{name}"
            while (wait := await self._spend(key, cost, limit)) > 0:
                if waited + wait > self.max_wait_s:
                    raise ProviderUnavailable(
                        f"{link.name} is at its {name} limit ({limit}) for {wait:.0f} s more"
                    )
                await asyncio.sleep(wait)
                waited += wait
        return waited

    async def _spend(self, key: str, cost: int, limit: int) -> float:
        wait = await self.cache.spend(key, cost, limit, self.window_s)
        if wait is None:  # the shared store is down: this process counts alone
            wait = await self._local.spend(key, cost, limit, self.window_s)
        return wait


@dataclass
class FallbackChain:
    links: Sequence[Link]
    limiter: Limiter
    attempts: list[Attempt] = field(default_factory=list)

    def seeing(self) -> FallbackChain:
        """The chain of its models that read images (the others cannot answer a message
        with images)."""
        return replace(self, links=[link for link in self.links if link.vision], attempts=[])

    async def complete(self, messages: Sequence[Message], request: Request) -> Completion:
        """The first answer a model of the chain gives."""
        for link in self.links:
            started, waited = time.perf_counter(), 0.0
            try:
                waited = await self.limiter.admit(link, _tokens(messages, request))
                completion = await link.model.complete(messages, request=request)
            except ProviderUnavailable as error:
                self._note(link, "unavailable", error.detail, waited, started)
                continue
            except ProviderError as error:
                self._note(link, "refused", error.detail, waited, started)
                raise
            self._note(link, "answered", None, waited, started)
            return completion
        raise ProviderUnavailable(self._exhausted())

    async def stream(
        self, messages: Sequence[Message], request: Request
    ) -> AsyncGenerator[str | Completion, None]:
        """The first stream a model of the chain starts, piece by piece."""
        for link in self.links:
            started, waited, begun = time.perf_counter(), 0.0, False
            try:
                waited = await self.limiter.admit(link, _tokens(messages, request))
                async for item in link.model.stream(messages, request):
                    begun = begun or isinstance(item, str)
                    yield item
            except ProviderUnavailable as error:
                self._note(link, "unavailable", error.detail, waited, started)
                if begun:
                    raise
                continue
            except ProviderError as error:
                self._note(link, "refused", error.detail, waited, started)
                raise
            self._note(link, "answered", None, waited, started)
            return
        raise ProviderUnavailable(self._exhausted())

    def _note(
        self, link: Link, outcome: str, error: str | None, waited: float, started: float
    ) -> None:
        elapsed = round((time.perf_counter() - started) * 1000)
        self.attempts.append(
            Attempt(link.name, link.model.model, outcome, error, round(waited * 1000), elapsed)
        )

    def _exhausted(self) -> str:
        tried = "; ".join(f"{a.config}: {a.error}" for a in self.attempts) or "none configured"
        return f"no model could answer ({tried})"


class Clients:
    """Chat clients kept open across turns, one per version of a model config and of its
    key (opening one builds an HTTP client and its TLS context: tens of milliseconds). At
    most `size`; the least recently used is closed first (a replaced version's client
    too: a turn may still be using it)."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._open: OrderedDict[tuple[object, ...], ChatModel] = OrderedDict()

    async def get(
        self, key: tuple[object, ...], opener: Callable[[], Awaitable[ChatModel]]
    ) -> ChatModel:
        client = self._open.get(key)
        if client is None:
            client = self._open[key] = await opener()
            while len(self._open) > self.size:
                _, oldest = self._open.popitem(last=False)
                await oldest.close()
        self._open.move_to_end(key)
        return client

    async def close(self) -> None:
        while self._open:
            _, client = self._open.popitem()
            await client.close()


def _tokens(messages: Sequence[Message], request: Request) -> int:
    """What a call may spend: its prompt (4 characters a token) and its answer's budget."""
    return sum(len(m.content) for m in messages) // 4 + 1 + (request.max_tokens or 512)


def chain_names(persona: Persona, agent: Agent | None) -> list[str]:
    """The model config names to try, in order (the agent's override the persona's)."""
    if agent is not None and agent.default_model:
        names = [agent.default_model, *map(str, agent.fallback_models)]
    else:
        names = [persona.default_provider, *map(str, persona.fallback_providers)]
    return list(dict.fromkeys(names))


CHAT_MODELS = (
    select(ModelConfig, Secret.updated_at)
    .outerjoin(
        Secret,
        (Secret.tenant_id == ModelConfig.tenant_id) & (Secret.id == ModelConfig.api_key_secret_id),
    )
    .where(ModelConfig.deleted_at.is_(None), ModelConfig.model_type == "chat")
    .order_by(ModelConfig.name)
)
"""The tenant's chat model configs, each with when its key was last written (a key
replaced through the vault's own API changes no config)."""


async def open_fallback_chain(
    session: AsyncSession,
    vault: Vault,
    limiter: Limiter,
    clients: Clients,
    persona: Persona,
    agent: Agent | None,
    *,
    timeout_s: float,
    endpoint_hosts: Sequence[str],
) -> FallbackChain:
    """The persona's (or agent's) chain, opened (409 naming a model config that is not
    there)."""
    names = chain_names(persona, agent)
    rows = (await session.execute(CHAT_MODELS)).all()
    configs = [config for config, _ in rows]
    keyed_at = {config.id: written for config, written in rows}
    by_name = {c.name: c for c in configs}
    chosen = []
    for name in names:
        config = by_name.get(name)
        if config is None and name == DEFAULT_PROVIDER and name == names[0] and configs:
            config = configs[0]
        if config is None:
            raise Conflict(f"the persona's model {name!r} is no chat model config of the tenant")
        chosen.append(config)
    links = []
    for c in chosen:
        key = (c.id, c.updated_at, c.api_key_secret_id, keyed_at[c.id], timeout_s)

        async def opener(config: ModelConfig = c) -> ChatModel:
            return await open_chat(
                session,
                vault,
                config,
                endpoint_hosts=endpoint_hosts,
                timeout_s=timeout_s,
                max_retries=0,
            )

        client = await clients.get(key, opener)
        links.append(Link(c.id, c.name, client, c.rpm, c.tpm, c.context_length, c.vision))
    return FallbackChain(links, limiter)
