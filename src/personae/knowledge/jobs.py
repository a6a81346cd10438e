"""Knowledge's background work: ingesting documents, curating them, finding where
entities are named in them, and moving a tenant to another embedding model."""

from __future__ import annotations

import uuid

from personae.errors import ConfigurationError, ProviderUnavailable
from personae.jobs import JobDeps, Task
from personae.knowledge.curator import curate
from personae.knowledge.documents import CURATE, INGEST
from personae.knowledge.ingest import ingest
from personae.knowledge.mentions import find_mentions
from personae.knowledge.migration import switch
from personae.memory.entities import FIND
from personae.memory.jobs import Services
from personae.retrieval.embedding_models import SWITCH


async def ingest_document(
    deps: JobDeps[Services], tenant_id: str, document_id: str, version: int
) -> str:
    return await ingest(
        deps.sessions,
        deps.services.embedders,
        deps.settings,
        uuid.UUID(tenant_id),
        uuid.UUID(document_id),
        version,
        final_attempt=deps.final_attempt,
    )


async def curate_document(
    deps: JobDeps[Services], tenant_id: str, document_id: str, version: int
) -> int:
    return await curate(
        deps.sessions,
        deps.services.embedders,
        uuid.UUID(tenant_id),
        uuid.UUID(document_id),
        version,
        vault=deps.services.vault,
        endpoint_hosts=deps.settings.model_endpoint_hosts,
        final_attempt=deps.final_attempt,
    )


async def find_entity_mentions(deps: JobDeps[Services], tenant_id: str, entity_id: str) -> int:
    return await find_mentions(deps.sessions, uuid.UUID(tenant_id), uuid.UUID(entity_id))


async def switch_embedding_model(deps: JobDeps[Services], tenant_id: str, to: str) -> int:
    target = deps.services.embedders.named(to)
    if target is None:
        raise ConfigurationError(f"the embedding model {to} is not configured here")
    return await switch(deps.sessions, uuid.UUID(tenant_id), target)


TASKS = (
    Task(INGEST, ingest_document, retry_on=(ProviderUnavailable,)),
    Task(CURATE, curate_document, retry_on=(ProviderUnavailable,)),
    Task(FIND, find_entity_mentions),
    Task(SWITCH, switch_embedding_model, retry_on=(ProviderUnavailable,)),
)
