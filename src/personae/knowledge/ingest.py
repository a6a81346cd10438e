"""Ingesting one version of a document: extract its text, split it, embed the chunks in
batches, then swap them in with one transaction (the old version's chunks retire in the
same commit, so search never sees both or neither), with the entity mentions they hold.

An embedding provider that is down raises `ProviderUnavailable`: the job runs again
later, and only its last try fails the document. Any other failure fails the document at
once, with the reason, and writes no chunk."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from personae.db.tenancy import tenant_session
from personae.errors import ProviderError, ProviderUnavailable, ValidationFailed
from personae.jobs import defer_in
from personae.kernel.audit.service import record
from personae.kernel.principal import Principal
from personae.knowledge import mentions
from personae.knowledge.documents import CURATE
from personae.knowledge.extract import extract
from personae.knowledge.models import Chunk, Document, DocumentVersion
from personae.providers.embeddings import Embedder, Embedders, label
from personae.retrieval import chunking
from personae.retrieval.embedding_models import register, tenant_embedder
from personae.settings import Settings
from personae.settings_store.flags import enabled
from personae.storage import objects

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Source:
    """What the job reads before the slow part (no transaction held while embedding)."""

    content: bytes
    mime_type: str
    persona_id: uuid.UUID | None


async def ingest(
    sessions: async_sessionmaker[AsyncSession],
    embedders: Embedders,
    settings: Settings,
    tenant_id: uuid.UUID,
    document_id: uuid.UUID,
    version: int,
    *,
    final_attempt: bool = True,
) -> str:
    """Ingest `version` of the document with the tenant's embedding model; returns its
    status afterwards (`completed`, `failed`, or `superseded` when a newer version or a
    deletion came first)."""
    source = await _source(sessions, tenant_id, document_id, version)
    if source is None:
        return "superseded"
    try:
        pieces = _pieces(source, settings)
    except ValidationFailed as error:
        return await _fail(sessions, tenant_id, document_id, version, error.detail)
    while True:
        async with tenant_session(sessions, tenant_id) as session:
            embedder = await tenant_embedder(session, embedders, tenant_id)
        try:
            vectors = await _embed(embedder, pieces)
        except ProviderUnavailable as error:
            if not final_attempt:
                raise
            reason = f"{error.detail}; gave up"
            return await _fail(sessions, tenant_id, document_id, version, reason)
        except ProviderError as error:
            return await _fail(sessions, tenant_id, document_id, version, error.detail)
        async with tenant_session(sessions, tenant_id) as session:
            if await _current(session, document_id, version, lock=True) is None:
                return "superseded"
            held = await tenant_embedder(session, embedders, tenant_id, hold=True)
            if label(held) != label(embedder):
                continue  # the tenant moved to another model meanwhile: embed again
            await _swap(session, embedder, tenant_id, document_id, version, source, pieces, vectors)
            if await enabled(session, tenant_id, "curated_summaries"):
                await defer_in(  # it checks the version itself: no lock to wait on
                    session,
                    CURATE,
                    tenant_id=tenant_id,
                    document_id=document_id,
                    version=version,
                )
            await record(
                session,
                Principal.system(tenant_id),
                "ingest",
                "document",
                document_id,
                data={"version": version, "chunks": len(pieces), "model": label(embedder)},
            )
        return "completed"


async def _current(
    session: AsyncSession, document_id: uuid.UUID, version: int, *, lock: bool = False
) -> Document | None:
    query = select(Document).where(
        Document.id == document_id,
        Document.deleted_at.is_(None),
        Document.current_version == version,
    )
    found = await session.execute(query.with_for_update() if lock else query)
    return found.scalar_one_or_none()


async def _source(
    sessions: async_sessionmaker[AsyncSession],
    tenant_id: uuid.UUID,
    document_id: uuid.UUID,
    version: int,
) -> Source | None:
    async with tenant_session(sessions, tenant_id) as session:
        document = await _current(session, document_id, version)
        if document is None:
            return None
        found = await session.execute(
            select(DocumentVersion).where(
                DocumentVersion.document_id == document_id, DocumentVersion.version == version
            )
        )
        row = found.scalar_one()
        stored = row.storage_object_id
        content = b"" if stored is None else await objects.content(session, stored)
        return Source(content, row.mime_type or "text/plain", document.persona_id)


def _pieces(source: Source, settings: Settings) -> list[chunking.Piece]:
    text = extract(source.content, source.mime_type)
    pieces = chunking.split(
        text,
        size=settings.chunk_tokens,
        overlap=min(settings.chunk_overlap_tokens, settings.chunk_tokens // 2),
    )
    if not pieces:
        raise ValidationFailed("the document holds no text", field="body")
    return pieces


async def _embed(embedder: Embedder, pieces: Sequence[chunking.Piece]) -> list[list[float]]:
    texts = [embedded_text(piece) for piece in pieces]
    vectors: list[list[float]] = []
    for start in range(0, len(texts), embedder.batch_size):
        vectors += await embedder.embed(texts[start : start + embedder.batch_size])
    if len(vectors) != len(texts):
        raise ProviderError(f"asked for {len(texts)} embeddings, got {len(vectors)}")
    return vectors


def embedded_text(piece: chunking.Piece) -> str:
    """The chunk as embedded: under the titles of the sections it sits in (a chunk that
    opens with its own heading carries that one already)."""
    titles = piece.headings[:-1] if piece.text.lstrip().startswith("#") else piece.headings
    return " > ".join((*titles, piece.text)) if titles else piece.text


async def _swap(
    session: AsyncSession,
    embedder: Embedder,
    tenant_id: uuid.UUID,
    document_id: uuid.UUID,
    version: int,
    source: Source,
    pieces: Sequence[chunking.Piece],
    vectors: Sequence[list[float]],
) -> None:
    await register(session, embedder)
    now = datetime.now(UTC)
    await session.execute(  # a run that committed before its job was acknowledged
        delete(Chunk).where(Chunk.document_id == document_id, Chunk.document_version == version)
    )
    await session.execute(
        update(Chunk)
        .where(Chunk.document_id == document_id, Chunk.retired_at.is_(None))
        .values(retired_at=now)
    )
    model = label(embedder)
    chunks = [
        Chunk(
            tenant_id=tenant_id,
            document_id=document_id,
            document_version=version,
            persona_id=source.persona_id,
            chunk_index=index,
            text=piece.text,
            token_count=piece.tokens,
            embedding=vector,
            embedding_model=model,
            metadata_={"headings": list(piece.headings)} if piece.headings else {},
        )
        for index, (piece, vector) in enumerate(zip(pieces, vectors, strict=True))
    ]
    session.add_all(chunks)
    await session.flush()
    await mentions.record_mentions(session, tenant_id, chunks, await mentions.gazetteer(session))
    await session.execute(
        update(Document)
        .where(Document.id == document_id)
        .values(status="completed", error_message=None, updated_at=now)
    )


async def _fail(
    sessions: async_sessionmaker[AsyncSession],
    tenant_id: uuid.UUID,
    document_id: uuid.UUID,
    version: int,
    reason: str,
) -> str:
    async with tenant_session(sessions, tenant_id) as session:
        document = await _current(session, document_id, version, lock=True)
        if document is None:
            return "superseded"
        document.status, document.error_message = "failed", reason[:2000]
        await record(
            session,
            Principal.system(tenant_id),
            "ingest",
            "document",
            document_id,
            result="failure",
            data={"version": version, "reason": reason[:500]},
        )
    log.info("document %s version %s failed: %s", document_id, version, reason)
    return "failed"
