"""Memory's background work: remembering sessions' turns and embedding episodes."""

from __future__ import annotations

import uuid

from personae.errors import ProviderUnavailable
from personae.jobs import JobDeps, task
from personae.memory.writing import EMBED, REMEMBER, embed_everywhere, embed_pending, remember


@task(REMEMBER, queue="memory")
async def remember_session(deps: JobDeps, tenant_id: str, session_id: str) -> int:
    return await remember(
        deps.sessions,
        deps.services["embedders"],
        uuid.UUID(tenant_id),
        uuid.UUID(session_id),
        batch_size=deps.settings.memory_batch_size,
        retry_s=deps.settings.memory_retry_s,
    )


@task(EMBED, queue="memory", retry_on=(ProviderUnavailable,))
async def embed_episodes(deps: JobDeps, tenant_id: str) -> int:
    return await embed_pending(
        deps.sessions,
        deps.services["embedders"],
        uuid.UUID(tenant_id),
        batch_size=deps.settings.memory_batch_size,
    )


@task("embed_waiting_episodes", queue="memory", cron="*/10 * * * *")
async def embed_waiting_episodes(deps: JobDeps, timestamp: int) -> int:
    """Every ten minutes: episodes whose embedding jobs gave up get another chance."""
    del timestamp
    return await embed_everywhere(deps.sessions)
