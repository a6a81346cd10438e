"""Moving a tenant's chunks to another embedding model without a gap in search.

Search reads only the vectors of the model the server embeds queries with (rows record
their model). `migrate` writes, beside every live chunk, a twin with the same text
embedded by the target model (and the entity mentions it holds), in committed batches
(resumable: chunks with a twin are skipped). Search goes on using the old vectors; after
the server is switched to the
target model (`PERSONAE_EMBEDDER`), it uses the twins, a second `migrate` fills in what
was ingested meanwhile, and `prune` removes the other models' rows."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, delete, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from personae.audit.service import record
from personae.db.tenancy import tenant_session
from personae.identity.principal import Principal
from personae.knowledge.mentions import copy_mentions
from personae.knowledge.models import Chunk
from personae.providers.embeddings import Embedder, label

BATCH = 128


@dataclass(frozen=True)
class Migrated:
    written: int
    left: int


def _has_twin(model: str) -> ColumnElement[bool]:
    """The chunk (`Chunk`) has a live twin embedded by `model`."""
    twin = aliased(Chunk)
    return exists().where(
        twin.document_id == Chunk.document_id,
        twin.document_version == Chunk.document_version,
        twin.chunk_index == Chunk.chunk_index,
        twin.is_curated == Chunk.is_curated,
        twin.embedding_model == model,
        twin.retired_at.is_(None),
    )


def _untwinned(model: str) -> ColumnElement[bool]:
    return and_(Chunk.retired_at.is_(None), Chunk.embedding_model != model, ~_has_twin(model))


async def left(session: AsyncSession, model: str) -> int:
    found = await session.execute(select(func.count()).where(_untwinned(model)))
    return int(found.scalar_one())


async def migrate(
    sessions: async_sessionmaker[AsyncSession],
    tenant_id: uuid.UUID,
    target: Embedder,
    *,
    on_batch: Callable[[Migrated], None] | None = None,
) -> int:
    """Write the target model's twin of every live chunk of the tenant; how many."""
    model = label(target)
    written = 0
    while True:
        async with tenant_session(sessions, tenant_id) as session:
            found = await session.execute(
                select(Chunk)
                .where(_untwinned(model))
                .order_by(Chunk.is_curated, Chunk.document_id, Chunk.chunk_index)
                .limit(BATCH)
            )
            batch = list(found.scalars())
        if not batch:
            break
        vectors = await target.embed([chunk.text for chunk in batch])
        async with tenant_session(sessions, tenant_id) as session:
            twins = []
            for chunk, vector in zip(batch, vectors, strict=True):
                sources = chunk.source_chunk_ids
                if sources:
                    sources = await _twins_of(session, sources, model)
                twins.append(
                    Chunk(
                        tenant_id=tenant_id,
                        document_id=chunk.document_id,
                        document_version=chunk.document_version,
                        persona_id=chunk.persona_id,
                        chunk_index=chunk.chunk_index,
                        text=chunk.text,
                        token_count=chunk.token_count,
                        embedding=vector,
                        embedding_model=model,
                        is_curated=chunk.is_curated,
                        source_chunk_ids=sources,
                        metadata_=chunk.metadata_,
                    )
                )
            session.add_all(twins)
            await session.flush()
            await copy_mentions(session, {c.id: t.id for c, t in zip(batch, twins, strict=True)})
            written += len(batch)
            remaining = await left(session, model)
        if on_batch is not None:
            on_batch(Migrated(written, remaining))
    async with tenant_session(sessions, tenant_id) as session:
        await record(
            session,
            Principal.system(tenant_id),
            "migrate",
            "embeddings",
            None,
            data={"to": model, "chunks": written},
        )
    return written


async def _twins_of(
    session: AsyncSession, chunk_ids: list[uuid.UUID], model: str
) -> list[uuid.UUID]:
    """The target model's twins of `chunk_ids` (a curated chunk's sources)."""
    source = aliased(Chunk)
    found = await session.execute(
        select(Chunk.id)
        .join(
            source,
            and_(
                source.document_id == Chunk.document_id,
                source.document_version == Chunk.document_version,
                source.chunk_index == Chunk.chunk_index,
                source.is_curated == Chunk.is_curated,
            ),
        )
        .where(source.id.in_(chunk_ids), Chunk.embedding_model == model)
    )
    return list(found.scalars())


async def prune(sessions: async_sessionmaker[AsyncSession], tenant_id: uuid.UUID, keep: str) -> int:
    """Delete the tenant's chunks of every model but `keep` that have a `keep` twin (a
    chunk without one stays: search under its model would lose it)."""
    async with tenant_session(sessions, tenant_id) as session:
        doomed = select(Chunk.id).where(Chunk.embedding_model != keep, _has_twin(keep))
        deleted = await session.execute(
            delete(Chunk).where(Chunk.id.in_(doomed)).returning(Chunk.id)
        )
        count = len(deleted.all())
        await record(
            session,
            Principal.system(tenant_id),
            "prune",
            "embeddings",
            None,
            data={"kept": keep, "chunks": count},
        )
    return count


async def census(
    sessions: async_sessionmaker[AsyncSession], tenant_id: uuid.UUID
) -> dict[str, int]:
    """Live chunks per model."""
    async with tenant_session(sessions, tenant_id) as session:
        found = await session.execute(
            select(Chunk.embedding_model, func.count())
            .where(Chunk.retired_at.is_(None))
            .group_by(Chunk.embedding_model)
        )
        return {str(model): int(count) for model, count in found.all()}
