"""Knowledge's background work: ingesting documents, and curating them."""

from __future__ import annotations

import uuid

from personae.errors import ProviderUnavailable
from personae.jobs import JobDeps, task
from personae.knowledge.curator import curate
from personae.knowledge.documents import CURATE, INGEST
from personae.knowledge.ingest import ingest


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
