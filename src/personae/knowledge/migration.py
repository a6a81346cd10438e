"""Moving a tenant to another embedding model without a gap in search.

A tenant's searches read only the vectors of its model (`tenants.embedding_model`; rows
record their model). `switch` writes, beside every live chunk and every entry of the
`embeddings` table, a twin with the same text embedded by the target model (chunks keep
their entity mentions), in committed batches: resumable, since rows with a twin are
skipped, and search goes on with the old vectors meanwhile. Its last step holds the
tenant's model lock, twins what was written in the meantime and changes the tenant's
model in one transaction; ingestion takes the same lock (shared) to write its rows, so no
row is left with only the old model's vector. `prune` then removes the other models'
rows. Memory follows in the background (`memory.reembedding`); rules' and scenarios'
phrasings are twinned likewise, and only the new model's are kept as the model changes
(a turn matches them with the tenant's model alone: `behavior.phrasings`)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, delete, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from personae.behavior import phrasings
from personae.db import locks
from personae.db.tenancy import tenant_session
from personae.identity.models import Tenant
from personae.kernel.audit.service import record
from personae.kernel.principal import Principal
from personae.knowledge.mentions import copy_mentions
from personae.knowledge.models import Chunk, Embedding
from personae.memory.reembedding import moved as memory_follows
from personae.providers.embeddings import Embedder, label
from personae.retrieval.embedding_models import lock_key, register, tenant_model

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


def _entry_has_twin(model: str) -> ColumnElement[bool]:
    twin = aliased(Embedding)
    return exists().where(
        twin.entity_type.is_not_distinct_from(Embedding.entity_type),
        twin.entity_id.is_not_distinct_from(Embedding.entity_id),
        twin.model == model,
    )


def _untwinned_entry(model: str) -> ColumnElement[bool]:
    return and_(Embedding.model != model, ~_entry_has_twin(model))


async def left(session: AsyncSession, model: str) -> int:
    """Rows of the tenant without a vector of `model` yet."""
    chunks = select(func.count()).where(_untwinned(model)).scalar_subquery()
    entries = select(func.count()).where(_untwinned_entry(model)).scalar_subquery()
    return int((await session.execute(select(chunks + entries))).scalar_one())


@dataclass(frozen=True)
class _Batch:
    """Rows without a twin: chunks first, then (once none is left) entries."""

    chunks: list[Chunk]
    entries: list[Embedding]

    def __len__(self) -> int:
        return len(self.chunks) + len(self.entries)

    def texts(self) -> list[str]:
        return [c.text for c in self.chunks] + [e.content for e in self.entries]


async def _next_batch(session: AsyncSession, model: str) -> _Batch:
    chunks = await session.execute(
        select(Chunk)
        .where(_untwinned(model))
        .order_by(Chunk.is_curated, Chunk.document_id, Chunk.chunk_index)
        .limit(BATCH)
    )
    found = list(chunks.scalars())
    if found:
        return _Batch(found, [])
    entries = await session.execute(
        select(Embedding).where(_untwinned_entry(model)).order_by(Embedding.id).limit(BATCH)
    )
    return _Batch([], list(entries.scalars()))


async def _write_twins(
    session: AsyncSession, target: Embedder, batch: _Batch, vectors: list[list[float]]
) -> None:
    model = label(target)
    twins = []
    for chunk, vector in zip(batch.chunks, vectors[: len(batch.chunks)], strict=True):
        sources = chunk.source_chunk_ids
        if sources:
            sources = await _twins_of(session, sources, model)
        twins.append(
            Chunk(
                tenant_id=chunk.tenant_id,
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
    model_id = await register(session, target)
    entries = [
        Embedding(
            tenant_id=entry.tenant_id,
            content=entry.content,
            embedding=vector,
            metadata_=entry.metadata_,
            entity_type=entry.entity_type,
            entity_id=entry.entity_id,
            model=model,
            model_id=model_id,
            dimensions=target.dimensions,
        )
        for entry, vector in zip(batch.entries, vectors[len(batch.chunks) :], strict=True)
    ]
    session.add_all([*twins, *entries])
    await session.flush()
    await copy_mentions(session, {c.id: t.id for c, t in zip(batch.chunks, twins, strict=True)})


async def _still_untwinned(
    session: AsyncSession, model: str, batch: _Batch, vectors: list[list[float]]
) -> tuple[_Batch, list[list[float]]]:
    """The part of `batch` (embedded with no transaction open) that still needs twins, its
    rows locked: a new version may have retired chunks meanwhile, an entry may be gone."""
    chunk_ids = [c.id for c in batch.chunks]
    entry_ids = [e.id for e in batch.entries]
    live = await session.execute(
        select(Chunk.id).where(Chunk.id.in_(chunk_ids), _untwinned(model)).with_for_update()
    )
    kept_chunks = set(live.scalars())
    there = await session.execute(
        select(Embedding.id)
        .where(Embedding.id.in_(entry_ids), _untwinned_entry(model))
        .with_for_update()
    )
    kept_entries = set(there.scalars())
    keep = [row_id in kept_chunks for row_id in chunk_ids]
    keep += [row_id in kept_entries for row_id in entry_ids]
    return (
        _Batch(
            [c for c in batch.chunks if c.id in kept_chunks],
            [e for e in batch.entries if e.id in kept_entries],
        ),
        [vector for vector, kept in zip(vectors, keep, strict=True) if kept],
    )


async def migrate(
    sessions: async_sessionmaker[AsyncSession],
    tenant_id: uuid.UUID,
    target: Embedder,
    *,
    on_batch: Callable[[Migrated], None] | None = None,
) -> int:
    """Write the target model's twin of every live row of the tenant, a committed batch
    at a time, embedding with no transaction open; how many."""
    model = label(target)
    written = 0
    while True:
        async with tenant_session(sessions, tenant_id) as session:
            batch = await _next_batch(session, model)
        if not batch:
            return written
        vectors = await target.embed(batch.texts())
        async with tenant_session(sessions, tenant_id) as session:
            batch, vectors = await _still_untwinned(session, model, batch, vectors)
            await _write_twins(session, target, batch, vectors)
            written += len(batch)
            remaining = await left(session, model)
        if on_batch is not None:
            on_batch(Migrated(written, remaining))


async def switch(
    sessions: async_sessionmaker[AsyncSession],
    tenant_id: uuid.UUID,
    target: Embedder,
    *,
    on_batch: Callable[[Migrated], None] | None = None,
) -> int:
    """Move the tenant to `target`: twins for every row, then, under the model lock, the
    rows written meanwhile and the tenant's new model; how many twins were written."""
    written = await migrate(sessions, tenant_id, target, on_batch=on_batch)
    written += await phrasings.twin_all(sessions, tenant_id, target)
    model = label(target)
    async with tenant_session(sessions, tenant_id) as session:
        await locks.hold(session, lock_key(tenant_id))
        while batch := await _next_batch(session, model):
            await _write_twins(session, target, batch, await target.embed(batch.texts()))
            written += len(batch)
        written += await phrasings.twin_all(sessions, tenant_id, target, session)
        await phrasings.keep_only(session, model)
        before = await tenant_model(session, tenant_id)
        await register(session, target)
        await session.execute(
            update(Tenant).where(Tenant.id == tenant_id).values(embedding_model=model)
        )
        await memory_follows(session, tenant_id)
        await record(
            session,
            Principal.system(tenant_id),
            "switch",
            "embedding_model",
            None,
            data={"from": before, "to": model, "rows": written},
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


async def prune(session: AsyncSession, principal: Principal, keep: str) -> int:
    """Delete the tenant's rows of every model but `keep` that have a `keep` twin (a row
    without one stays: search under its model would lose it)."""
    doomed = select(Chunk.id).where(Chunk.embedding_model != keep, _has_twin(keep))
    chunks = await session.execute(delete(Chunk).where(Chunk.id.in_(doomed)).returning(Chunk.id))
    entries = await session.execute(
        delete(Embedding)
        .where(Embedding.model != keep, _entry_has_twin(keep))
        .returning(Embedding.id)
    )
    count = len(chunks.all()) + len(entries.all())
    await record(
        session, principal, "prune", "embeddings", None, data={"kept": keep, "rows": count}
    )
    return count


async def census(session: AsyncSession) -> dict[str, int]:
    """The tenant's live chunks and entries, per model."""
    found = await session.execute(
        select(Chunk.embedding_model, func.count())
        .where(Chunk.retired_at.is_(None))
        .group_by(Chunk.embedding_model)
    )
    counts = {str(model): int(count) for model, count in found.all()}
    entries = await session.execute(select(Embedding.model, func.count()).group_by(Embedding.model))
    for model, count in entries.all():
        counts[str(model)] = counts.get(str(model), 0) + int(count)
    return counts
