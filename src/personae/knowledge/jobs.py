"""Knowledge's background work: ingesting documents, curating them, finding where
entities are named in them, and moving a tenant to another embedding model."""

from __future__ import annotations

import uuid

from personae.errors import ConfigurationError, ProviderUnavailable
from personae.jobs import JobDeps, task
from personae.knowledge.curator import curate
from personae.knowledge.documents import CURATE, INGEST
from personae.knowledge.embedding_models import SWITCH
from personae.knowledge.ingest import ingest
from personae.knowledge.mentions import FIND, find_mentions
from personae.knowledge.migration import switch


@task(INGEST, queue="ingest", retry_on=(ProviderUnavailable,))
async def ingest_document(deps: JobDeps, tenant_id: str, document_id: str, version: int) -> str:
    return await ingest(
        deps.sessions,
        deps.services["embedders"],
        deps.settings,
        uuid.UUID(tenant_id),
        uuid.UUID(document_id),
        version,
        final_attempt=deps.final_attempt,
    )


@task(CURATE, queue="ingest", retry_on=(ProviderUnavailable,))
async def curate_document(deps: JobDeps, tenant_id: str, document_id: str, version: int) -> int:
    return await curate(
        deps.sessions,
        deps.services["embedders"],
        uuid.UUID(tenant_id),
        uuid.UUID(document_id),
        version,
        vault=deps.services.get("vault"),
        endpoint_hosts=deps.settings.model_endpoint_hosts,
        final_attempt=deps.final_attempt,
    )


@task(FIND, queue="ingest")
async def find_entity_mentions(deps: JobDeps, tenant_id: str, entity_id: str) -> int:
    return await find_mentions(deps.sessions, uuid.UUID(tenant_id), uuid.UUID(entity_id))


@task(SWITCH, queue="ingest", retry_on=(ProviderUnavailable,))
async def switch_embedding_model(deps: JobDeps, tenant_id: str, to: str) -> int:
    target = deps.services["embedders"].named(to)
    if target is None:
        raise ConfigurationError(f"the embedding model {to} is not configured here")
    return await switch(deps.sessions, uuid.UUID(tenant_id), target)
