"""The memory curator: summary chunks over groups of a document's chunks, written beside
them (`is_curated`, `source_chunk_ids`) so retrieval can prefer a digest to its parts.

The tenant's utility model (a model config of type `utility`) writes the summaries; a
tenant without one gets extractive summaries (the group's most central sentences, in
their order), and so does a group the model fails on for good. Each summary chunk records
how it was written, and the model's tokens. Runs after ingestion when the tenant's
`curated_summaries` flag is on; a new version retires its summaries with its chunks."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from personae.db.tenancy import tenant_session
from personae.errors import ProviderUnavailable
from personae.kernel.audit.service import record
from personae.kernel.principal import Principal
from personae.knowledge.models import Chunk, Document
from personae.providers.chat import spent
from personae.providers.embeddings import Embedders, label
from personae.retrieval.chunking import count_tokens
from personae.retrieval.embedding_models import tenant_embedder
from personae.retrieval.summaries import EXTRACTIVE, summarize
from personae.settings_store.model_configs import background_model
from personae.vault.service import Vault

log = logging.getLogger(__name__)
GROUP = 8
"""Chunks summarised together."""


async def curate(
    sessions: async_sessionmaker[AsyncSession],
    embedders: Embedders,
    tenant_id: uuid.UUID,
    document_id: uuid.UUID,
    version: int,
    *,
    vault: Vault | None = None,
    endpoint_hosts: Sequence[str] = (),
    final_attempt: bool = True,
    max_tokens: int = 256,
) -> int:
    """Write the summaries of `version` of the document (once), through the tenant's
    utility model when it has one (`vault` opens its key); how many were written."""
    async with tenant_session(sessions, tenant_id) as session:
        chunks = await _parts(session, document_id, version)
        embedder = await tenant_embedder(session, embedders, tenant_id)
        model = None if vault is None else await background_model(session, vault, endpoint_hosts)
    groups = [chunks[i : i + GROUP] for i in range(0, len(chunks), GROUP)]
    groups = [group for group in groups if len(group) > 1]
    try:
        summaries = [
            await summarize(model, [c.text for c in group], max_tokens, final_attempt=final_attempt)
            for group in groups
        ]
    finally:
        if model is not None:
            await model.close()
    kept = [(g, s) for g, s in zip(groups, summaries, strict=True) if s.text]
    if not kept:
        return 0
    vectors = await embedder.embed([summary.text for _, summary in kept])
    async with tenant_session(sessions, tenant_id) as session:
        document = await session.get(Document, (tenant_id, document_id), with_for_update=True)
        if document is None or document.current_version != version or document.deleted_at:
            return 0
        if await _already(session, document_id, version):
            return 0
        held = await tenant_embedder(session, embedders, tenant_id, hold=True)
        if label(held) != label(embedder):
            raise ProviderUnavailable("the tenant moved to another embedding model; again")
        session.add_all(
            Chunk(
                tenant_id=tenant_id,
                document_id=document_id,
                document_version=version,
                persona_id=document.persona_id,
                chunk_index=index,
                text=summary.text,
                token_count=count_tokens(summary.text),
                embedding=vector,
                embedding_model=label(embedder),
                is_curated=True,
                source_chunk_ids=[c.id for c in group],
                metadata_=summary.usage,
            )
            for index, ((group, summary), vector) in enumerate(zip(kept, vectors, strict=True))
        )
        await record(
            session,
            Principal.system(tenant_id),
            "curate",
            "document",
            document_id,
            data={
                "version": version,
                "summaries": len(kept),
                "by": sorted({s.usage.get("model", EXTRACTIVE) for _, s in kept}),
                **spent(s.usage for _, s in kept),
            },
        )
    return len(kept)


async def _parts(session: AsyncSession, document_id: uuid.UUID, version: int) -> list[Chunk]:
    found = await session.execute(
        select(Chunk)
        .where(
            Chunk.document_id == document_id,
            Chunk.document_version == version,
            Chunk.retired_at.is_(None),
            Chunk.is_curated.is_(False),
        )
        .order_by(Chunk.chunk_index)
    )
    return list(found.scalars())


async def _already(session: AsyncSession, document_id: uuid.UUID, version: int) -> bool:
    found = await session.execute(
        select(Chunk.id)
        .where(
            Chunk.document_id == document_id,
            Chunk.document_version == version,
            Chunk.is_curated.is_(True),
        )
        .limit(1)
    )
    return found.first() is not None
