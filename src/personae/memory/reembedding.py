"""Memory after the tenant moves to another embedding model (`knowledge.migration`).

In the transaction that switches the model, `moved` marks the tenant's episodes for
embedding again (text search finds them meanwhile; `embed_episodes` gives them the new
model's vectors) and queues `reembed_graph`, which gives entity names and facts the new
model's vectors in committed batches, so name resolution and fact search use one model."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from personae.db.tenancy import tenant_session
from personae.jobs import Job, defer_in
from personae.memory.models import Entity, Episode, Relationship
from personae.memory.writing import embed_later
from personae.providers.embeddings import Embedders, label
from personae.retrieval.embedding_models import tenant_embedder

REEMBED = Job("reembed_graph", queue="memory")


async def moved(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    """The tenant's model changes in this transaction: its memories follow."""
    await session.execute(
        update(Episode)
        .where(Episode.embedding_status == "embedded")
        .values(embedding_status="pending")
    )
    await embed_later(session, tenant_id)
    await defer_in(session, REEMBED, lock=f"graph:{tenant_id}", once=True, tenant_id=tenant_id)


async def reembed_graph(
    sessions: async_sessionmaker[AsyncSession],
    embedders: Embedders,
    tenant_id: uuid.UUID,
    *,
    batch_size: int,
) -> int:
    """Embed the names and facts not yet of the tenant's model; returns how many."""
    done = 0
    for model, vector, words in (
        (Entity, Entity.name_embedding, Entity.name),
        (Relationship, Relationship.fact_embedding, Relationship.fact),
    ):
        while True:
            async with tenant_session(sessions, tenant_id) as session:
                embedder = await tenant_embedder(session, embedders, tenant_id, hold=True)
                stale = await session.execute(
                    select(model.id, words)
                    .where(model.embedding_model.is_distinct_from(label(embedder)))
                    .order_by(model.id)
                    .limit(batch_size)
                    .with_for_update(skip_locked=True)
                )
                batch = stale.all()
                if not batch:
                    break
                vectors = await embedder.embed([text or "" for _, text in batch])
                rows: list[dict[str, Any]] = [
                    {
                        "tenant_id": tenant_id,
                        "id": row_id,
                        vector.key: list(v),
                        "embedding_model": label(embedder),
                    }
                    for (row_id, _), v in zip(batch, vectors, strict=True)
                ]
                await session.execute(update(model), rows)
            done += len(batch)
    return done
