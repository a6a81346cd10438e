"""Entity mentions in documents: where the tenant's entities are named in its chunks.

An entity is named by its name, canonical name or aliases, matched as whole words in any
case. Ingestion records the mentions of a new version's chunks in the transaction that
swaps them in; an entity that is made or renamed is looked for in the live chunks by a
job (`FIND`). Mentions are kept for a document's own chunks, not for curated summaries
of them. Each document also gets one `entity_document_associations` row per entity
it mentions, its relevance the share of the document's chunks that name it.

Only entities the whole tenant shares take part: an entity kept in one customer's memory
is never linked to documents, and an entity of one persona only to that persona's
documents (and those of no persona)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import ARRAY, ColumnElement, Uuid, and_, delete, func, literal, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from personae.db import locks
from personae.db.tenancy import tenant_session
from personae.kernel.principal import Principal
from personae.knowledge import access
from personae.knowledge.documents import DOCUMENTS
from personae.knowledge.models import Chunk, Document
from personae.memory.models import Entity, EntityDocumentAssociation, EntityMention
from personae.retrieval.mentions import MIN_NAME, Gazetteer, Named


def _shared() -> ColumnElement[bool]:
    """Entities that may be linked to documents: current, and no customer's own."""
    return and_(
        Entity.customer_profile_id.is_(None),
        Entity.expired_at.is_(None),
        Entity.valid_to.is_(None),
    )


async def gazetteer(
    session: AsyncSession, entity_ids: Sequence[uuid.UUID] | None = None
) -> Gazetteer:
    """The tenant's shared entities (or only `entity_ids`) ready to be found."""
    query = select(
        Entity.id, Entity.persona_id, Entity.name, Entity.canonical_name, Entity.aliases
    ).where(_shared())
    if entity_ids is not None:
        query = query.where(Entity.id.in_(entity_ids))
    rows = (await session.execute(query)).all()
    return Gazetteer(
        Named(row.id, row.persona_id, (row.name, row.canonical_name or "", *row.aliases))
        for row in rows
    )


async def record_mentions(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    chunks: Sequence[Chunk],
    names: Gazetteer,
) -> int:
    """Write the mentions `names` finds in `chunks` (flushed rows), and refresh the
    document associations of their documents; how many mentions."""
    await _one_writer(session, tenant_id)
    rows = [
        {
            "tenant_id": tenant_id,
            "entity_id": found.entity_id,
            "chunk_id": chunk.id,
            "document_id": chunk.document_id,
            "mention_text": found.text,
            "start_offset": found.start,
            "end_offset": found.end,
        }
        for chunk in chunks
        for found in names.find(chunk.text, chunk.persona_id)
    ]
    if rows:
        await session.execute(insert(EntityMention), rows)
    await refresh_associations(session, tenant_id, {chunk.document_id for chunk in chunks})
    return len(rows)


async def _one_writer(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    """One writer of the tenant's mentions at a time (till the transaction ends): a look
    for an entity and an ingestion that overlap would both record the same mentions."""
    await locks.hold(session, f"mentions:{tenant_id}")


async def copy_mentions(session: AsyncSession, twins: Mapping[uuid.UUID, uuid.UUID]) -> None:
    """Give each chunk's twin (another model's copy of its text) the chunk's mentions."""
    if not twins:
        return
    pairs = select(
        func.unnest(literal(list(twins), ARRAY(Uuid))).label("chunk_id"),
        func.unnest(literal(list(twins.values()), ARRAY(Uuid))).label("twin_id"),
    ).subquery()
    columns = ["entity_id", "document_id", "mention_text", "start_offset", "end_offset"]
    await session.execute(
        insert(EntityMention).from_select(
            ["id", "tenant_id", "chunk_id", *columns],
            select(
                func.personae_uuidv7(),  # one per row (the Python default would repeat)
                EntityMention.tenant_id,
                pairs.c.twin_id,
                *(getattr(EntityMention, column) for column in columns),
            ).join(pairs, pairs.c.chunk_id == EntityMention.chunk_id),
        )
    )


async def refresh_associations(
    session: AsyncSession, tenant_id: uuid.UUID, document_ids: Iterable[uuid.UUID]
) -> None:
    """Recount which entities the documents' live chunks name, and how often."""
    documents = list(document_ids)
    if not documents:
        return
    await session.execute(
        delete(EntityDocumentAssociation).where(
            EntityDocumentAssociation.document_id.in_(documents)
        )
    )
    live = (
        select(Chunk.document_id, func.count().label("chunks"))
        .where(
            Chunk.document_id.in_(documents),
            Chunk.retired_at.is_(None),
            Chunk.is_curated.is_(False),
        )
        .group_by(Chunk.document_id)
        .subquery()
    )
    naming = (
        select(
            EntityMention.entity_id,
            EntityMention.document_id,
            func.count(func.distinct(EntityMention.chunk_id)).label("naming"),
        )
        .join(Chunk, Chunk.id == EntityMention.chunk_id)
        .where(EntityMention.document_id.in_(documents), Chunk.retired_at.is_(None))
        .group_by(EntityMention.entity_id, EntityMention.document_id)
        .subquery()
    )
    await session.execute(
        insert(EntityDocumentAssociation).from_select(
            ["tenant_id", "entity_id", "document_id", "relevance"],
            select(
                literal(tenant_id),
                naming.c.entity_id,
                naming.c.document_id,
                naming.c.naming / func.greatest(live.c.chunks, 1.0),
            ).join(live, live.c.document_id == naming.c.document_id),
        )
    )


async def find_mentions(
    sessions: async_sessionmaker[AsyncSession], tenant_id: uuid.UUID, entity_id: uuid.UUID
) -> int:
    """Look for the entity anew in every live chunk (after it was made or renamed); how
    many mentions it has now."""
    async with tenant_session(sessions, tenant_id) as session:
        await _one_writer(session, tenant_id)
        before = await session.execute(
            delete(EntityMention)
            .where(EntityMention.entity_id == entity_id, EntityMention.chunk_id.is_not(None))
            .returning(EntityMention.document_id)
        )
        touched = {document_id for (document_id,) in before.all() if document_id is not None}
        names = await gazetteer(session, [entity_id])
        chunks: list[Chunk] = []
        if names:
            found = await session.execute(
                select(Chunk)
                .join(Document, Document.id == Chunk.document_id)
                .where(
                    Chunk.retired_at.is_(None),
                    Chunk.is_curated.is_(False),
                    Document.deleted_at.is_(None),
                    _named_in_sql(await _names_of(session, entity_id)),
                )
            )
            chunks = list(found.scalars())
        count = await record_mentions(session, tenant_id, chunks, names)
        await refresh_associations(session, tenant_id, touched)
        return count


async def _names_of(session: AsyncSession, entity_id: uuid.UUID) -> list[str]:
    row = (
        await session.execute(
            select(Entity.name, Entity.canonical_name, Entity.aliases).where(Entity.id == entity_id)
        )
    ).one()
    names = {n.strip() for n in (row.name, row.canonical_name or "", *row.aliases)}
    return [n for n in names if len(n) >= MIN_NAME]


def _named_in_sql(names: Sequence[str]) -> ColumnElement[bool]:
    """Chunks whose text holds one of `names` as whole words (PostgreSQL narrows, the
    gazetteer decides)."""
    edge = "[^[:alnum:]_]"
    return or_(*(Chunk.text.op("~*")(f"(^|{edge}){re.escape(name)}({edge}|$)") for name in names))


async def of_document(
    session: AsyncSession, principal: Principal, document_id: uuid.UUID
) -> list[dict[str, Any]]:
    """The entities a document names: id, name, type, relevance and mention count."""
    await DOCUMENTS.get(session, principal, document_id)
    principal.require("memory:read")
    live = select(Chunk.id).where(Chunk.document_id == document_id, Chunk.retired_at.is_(None))
    mentions = (
        select(func.count())
        .where(EntityMention.entity_id == Entity.id, EntityMention.chunk_id.in_(live))
        .scalar_subquery()
    )
    found = await session.execute(
        select(
            Entity.id.label("entity_id"),
            Entity.name,
            Entity.entity_type,
            EntityDocumentAssociation.relevance,
            mentions.label("mentions"),
        )
        .join(EntityDocumentAssociation, EntityDocumentAssociation.entity_id == Entity.id)
        .where(EntityDocumentAssociation.document_id == document_id)
        .order_by(EntityDocumentAssociation.relevance.desc(), Entity.name)
    )
    return [dict(row) for row in found.mappings()]


async def naming(
    session: AsyncSession, principal: Principal, entity_id: uuid.UUID
) -> list[dict[str, Any]]:
    """The documents the caller may read that name the entity: id, name, relevance."""
    principal.require("memory:read")
    principal.require("documents:read")
    found = await session.execute(
        select(
            Document.id.label("document_id"),
            Document.name,
            EntityDocumentAssociation.relevance,
        )
        .join(EntityDocumentAssociation, EntityDocumentAssociation.document_id == Document.id)
        .where(
            EntityDocumentAssociation.entity_id == entity_id,
            Document.deleted_at.is_(None),
            access.readable(principal, Document.id),
        )
        .order_by(EntityDocumentAssociation.relevance.desc(), Document.name)
    )
    return [dict(row) for row in found.mappings()]
