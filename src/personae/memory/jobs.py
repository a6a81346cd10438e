"""Memory's background work: remembering sessions' turns, summarising and embedding them."""

from __future__ import annotations

import uuid
from typing import Protocol

from personae.errors import ProviderUnavailable
from personae.jobs import Job, JobDeps, Task
from personae.memory.extraction import extract_session
from personae.memory.reembedding import REEMBED, reembed_graph
from personae.memory.resolution import Thresholds
from personae.memory.summaries import summarize_session
from personae.memory.writing import (
    EMBED,
    EXTRACT,
    REMEMBER,
    SUMMARIZE,
    embed_everywhere,
    embed_pending,
    remember,
)
from personae.providers.embeddings import Embedders
from personae.vault.service import Vault

EMBED_WAITING_EPISODES = Job("embed_waiting_episodes", queue="memory")


class Services(Protocol):
    """What the background tasks of memory (and knowledge) use of the worker's services."""

    @property
    def embedders(self) -> Embedders: ...

    @property
    def vault(self) -> Vault | None:
        """None: no utility model can be opened (summaries are extractive, no facts)."""


async def remember_session(deps: JobDeps[Services], tenant_id: str, session_id: str) -> int:
    return await remember(
        deps.sessions,
        deps.services.embedders,
        uuid.UUID(tenant_id),
        uuid.UUID(session_id),
        batch_size=deps.settings.memory_batch_size,
        retry_s=deps.settings.memory_retry_s,
        summary_window=deps.settings.memory_summary_window,
    )


async def summarize_turns(deps: JobDeps[Services], tenant_id: str, session_id: str) -> int:
    return await summarize_session(
        deps.sessions,
        deps.services.embedders,
        uuid.UUID(tenant_id),
        uuid.UUID(session_id),
        window=deps.settings.memory_summary_window,
        meta=deps.settings.memory_meta_window,
        vault=deps.services.vault,
        endpoint_hosts=deps.settings.model_endpoint_hosts,
        final_attempt=deps.final_attempt,
    )


async def extract_facts(deps: JobDeps[Services], tenant_id: str, session_id: str) -> int:
    settings = deps.settings
    return await extract_session(
        deps.sessions,
        deps.services.embedders,
        uuid.UUID(tenant_id),
        uuid.UUID(session_id),
        vault=deps.services.vault,
        endpoint_hosts=deps.settings.model_endpoint_hosts,
        batch_size=settings.memory_extraction_batch,
        thresholds=Thresholds.configured(settings),
    )


async def embed_episodes(deps: JobDeps[Services], tenant_id: str) -> int:
    return await embed_pending(
        deps.sessions,
        deps.services.embedders,
        uuid.UUID(tenant_id),
        batch_size=deps.settings.memory_batch_size,
    )


async def reembed_names_and_facts(deps: JobDeps[Services], tenant_id: str) -> int:
    return await reembed_graph(
        deps.sessions,
        deps.services.embedders,
        uuid.UUID(tenant_id),
        batch_size=deps.settings.memory_batch_size,
    )


async def embed_waiting_episodes(deps: JobDeps[Services], timestamp: int) -> int:
    """Every ten minutes: episodes whose embedding jobs gave up get another chance."""
    del timestamp
    return await embed_everywhere(deps.sessions)


TASKS = (
    Task(REMEMBER, remember_session),
    Task(SUMMARIZE, summarize_turns, retry_on=(ProviderUnavailable,)),
    Task(EXTRACT, extract_facts, retry_on=(ProviderUnavailable,)),
    Task(EMBED, embed_episodes, retry_on=(ProviderUnavailable,)),
    Task(REEMBED, reembed_names_and_facts, retry_on=(ProviderUnavailable,)),
    Task(EMBED_WAITING_EPISODES, embed_waiting_episodes, cron="*/10 * * * *"),
)
