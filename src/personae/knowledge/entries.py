"""Free-standing entries of the `embeddings` table: a text and its vector for any entity
of the tenant (a tool's description, a rule's condition, …), found by the same search as
chunks. Other areas keep their entities' entries here (`put` when the text changes,
`remove` with the entity) and look them up with `find`: semantic tool discovery is
`find(..., entity_type="tool")`. They check their own permissions first."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import AsyncSession

from personae.kernel.principal import Principal
from personae.knowledge.models import Embedding
from personae.providers.embeddings import Embedders, label
from personae.retrieval.embedding_models import register, tenant_embedder
from personae.retrieval.hybrid import Corpus, Mode, bound, corpus_statement

ENTRIES = Corpus(
    ranking="density",  # BM25 costs too much on long chunks (retrieval.DENSITY_HITS)
    table="embeddings",
    text="content",
    tsv="content_tsv",
    model="model",
    live="c.entity_type = :entity_type",
    shown="c.id, c.entity_type, c.entity_id, c.content, c.metadata",
)


@dataclass(frozen=True)
class EntryHit:
    id: uuid.UUID
    entity_type: str
    entity_id: uuid.UUID | None
    content: str
    score: float
    similarity: float | None
    text_score: float | None
    vector_rank: int | None
    text_rank: int | None
    highlight: str | None
    metadata: dict[str, Any] = field(default_factory=dict)


async def put(
    session: AsyncSession,
    principal: Principal,
    embedders: Embedders,
    entity_type: str,
    entity_id: uuid.UUID,
    content: str,
    metadata: Mapping[str, Any] | None = None,
) -> Embedding:
    """The entity's entry under the tenant's model, replacing the ones it had (a switch
    to another model in progress writes the new one's twin again)."""
    embedder = await tenant_embedder(session, embedders, principal.tenant_id, hold=True)
    vector = (await embedder.embed([content]))[0]
    await remove(session, entity_type, entity_id)
    entry = Embedding(
        tenant_id=principal.tenant_id,
        content=content,
        embedding=vector,
        metadata_=dict(metadata or {}),
        entity_type=entity_type,
        entity_id=entity_id,
        model=label(embedder),
        model_id=await register(session, embedder),
        dimensions=embedder.dimensions,
    )
    session.add(entry)
    await session.flush()
    return entry


async def remove(
    session: AsyncSession, entity_type: str, entity_id: uuid.UUID, *, model: str | None = None
) -> None:
    """Forget the entity's entries (of `model` only, if given)."""
    query = delete(Embedding).where(
        Embedding.entity_type == entity_type, Embedding.entity_id == entity_id
    )
    await session.execute(query if model is None else query.where(Embedding.model == model))


async def find(
    session: AsyncSession,
    principal: Principal,
    embedders: Embedders,
    entity_type: str,
    query: str,
    *,
    mode: Mode = "hybrid",
    k: int = 10,
    min_similarity: float | None = None,
) -> list[EntryHit]:
    """The `k` entries of `entity_type` (in the session's tenant) that best match `query`,
    by the tenant's model."""
    embedder = await tenant_embedder(session, embedders, principal.tenant_id)
    vector = None if mode == "text" else (await embedder.embed([query]))[0]
    params = bound(query, mode, k, label(embedder), vector, min_similarity=min_similarity)
    params["entity_type"] = entity_type
    rows = await session.execute(text(corpus_statement(ENTRIES, mode)), params)
    return [EntryHit(**{**row, "metadata": row["metadata"] or {}}) for row in rows.mappings()]
