"""Knowledge's background work: ingesting documents, curating them, and finding where
entities are named in them."""

from __future__ import annotations

import uuid

from personae.errors import ProviderUnavailable
from personae.jobs import JobDeps, task
from personae.knowledge.curator import curate
from personae.knowledge.documents import CURATE, INGEST
from personae.knowledge.ingest import ingest
from personae.knowledge.mentions import FIND, find_mentions


@task(INGEST, queue="ingest", retry_on=(ProviderUnavailable,))
async def ingest_document(deps: JobDeps, tenant_id: str, document_id: str, version: int) -> str:
    return await ingest(
        deps.sessions,
        deps.services["embedder"],
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
        deps.services["embedder"],
        uuid.UUID(tenant_id),
        uuid.UUID(document_id),
        version,
    )


@task(FIND, queue="ingest")
async def find_entity_mentions(deps: JobDeps, tenant_id: str, entity_id: str) -> int:
    return await find_mentions(deps.sessions, uuid.UUID(tenant_id), uuid.UUID(entity_id))
