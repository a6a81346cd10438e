"""Search over the documents' chunks (`retrieval.hybrid` builds the statement), narrowed
by collection, category, tags, document, dates or a named entity, and within the teams the
caller may read."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from personae.db.statements import cached_text
from personae.kernel.principal import Principal
from personae.knowledge import access
from personae.knowledge.models import SearchQuery, SearchResult
from personae.providers.embeddings import Embedder, label
from personae.retrieval.hybrid import Corpus, Mode, bound, corpus_statement


@dataclass(frozen=True)
class Filters:
    persona_id: uuid.UUID | None = None
    collection_id: uuid.UUID | None = None
    category_id: uuid.UUID | None = None
    """This category and every category below it."""
    tags: Sequence[str] = ()
    """Documents with any of these tags."""
    document_id: uuid.UUID | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    entity_id: uuid.UUID | None = None
    """Chunks that name this entity."""


@dataclass(frozen=True)
class Hit:
    chunk_id: uuid.UUID
    document_id: uuid.UUID
    document_name: str
    chunk_index: int
    text: str
    score: float
    similarity: float | None
    text_score: float | None
    vector_rank: int | None
    text_rank: int | None
    is_curated: bool
    highlight: str | None
    metadata: dict[str, Any] = field(default_factory=dict)


FILTERS: dict[str, str] = {
    "persona_id": "c.persona_id = :persona_id",
    "document_id": "c.document_id = :document_id",
    "created_after": "c.created_at >= :created_after",
    "created_before": "c.created_at < :created_before",
    "collection_id": "c.document_id IN (SELECT ci.document_id FROM collection_items AS ci "
    "WHERE ci.collection_id = :collection_id AND ci.document_id IS NOT NULL)",
    "tags": "c.document_id IN (SELECT ta.document_id FROM document_tag_associations AS ta "
    "JOIN document_tags AS t ON t.id = ta.tag_id WHERE t.name = ANY(:tags))",
    "category_id": "c.document_id IN (SELECT ca.document_id "
    "FROM document_category_associations AS ca WHERE ca.category_id IN ("
    "WITH RECURSIVE below(id) AS (SELECT CAST(:category_id AS uuid) UNION "
    "SELECT dc.id FROM document_categories AS dc JOIN below ON dc.parent_id = below.id) "
    "SELECT id FROM below))",
    "entity_id": "c.id IN (SELECT m.chunk_id FROM entity_mentions AS m "
    "WHERE m.entity_id = :entity_id AND m.chunk_id IS NOT NULL)",
}


CHUNKS = Corpus(
    ranking="density",  # BM25 costs too much on long chunks (retrieval.DENSITY_HITS)
    table="chunks",
    text="text",
    tsv="text_tsv",
    model="embedding_model",
    live="c.retired_at IS NULL",
    shown="c.id AS chunk_id, c.document_id, d.name AS document_name, c.chunk_index, "
    "c.text, c.is_curated, c.metadata",
    joins="JOIN documents AS d ON d.id = c.document_id",
    weight="CASE WHEN c.is_curated THEN CAST(:curated_boost AS float8) ELSE 1 END",
)


def statement(mode: Mode, filters: Filters, *, restricted: bool = False) -> str:
    """The one SQL statement of a chunk search in `mode` with `filters` (values bound);
    `restricted`: only documents the `:reader`'s teams may read."""
    clauses = [clause for name, clause in FILTERS.items() if getattr(filters, name)]
    return corpus_statement(
        CHUNKS, mode, [*clauses, *([access.READABLE_SQL] if restricted else [])]
    )


@dataclass(frozen=True)
class Request:
    """One search, everything it needs but the session."""

    query: str
    mode: Mode = "hybrid"
    k: int = 10
    min_similarity: float | None = None
    filters: Filters = Filters()
    curated_boost: float = 1.0

    def compiled(
        self, principal: Principal, model: str, vector: Sequence[float] | None
    ) -> tuple[str, dict[str, Any]]:
        """The SQL statement and its parameters, for the caller and the `model`'s vectors."""
        filters = self.filters
        params: dict[str, Any] = {n: getattr(filters, n) for n in FILTERS if getattr(filters, n)}
        if "tags" in params:
            params["tags"] = list(params["tags"])
        params |= bound(
            self.query,
            self.mode,
            self.k,
            model,
            vector,
            min_similarity=self.min_similarity,
            boost=self.curated_boost,
        )
        restricted = not access.unrestricted(principal)
        if restricted:
            params["reader"] = principal.user_id
        return statement(self.mode, filters, restricted=restricted), params


async def search(
    session: AsyncSession,
    principal: Principal,
    embedder: Embedder,
    request: Request,
    *,
    vector: Sequence[float] | None = None,
) -> list[Hit]:
    """The `request.k` best chunks the caller may read. `vector`: the query's embedding
    when the caller has it already (else `embedder` makes it)."""
    principal.require("documents:read")
    if request.mode != "text" and vector is None:
        vector = (await embedder.embed([request.query]))[0]
    sql, params = request.compiled(principal, label(embedder), vector)
    rows = (await session.execute(cached_text(sql), params)).mappings().all()
    return [Hit(**{**row, "metadata": row["metadata"] or {}}) for row in rows]


async def log_search(
    session: AsyncSession,
    principal: Principal,
    model_id: uuid.UUID | None,
    query: str,
    mode: Mode,
    k: int,
    min_similarity: float | None,
    filters: dict[str, Any],
    hits: Sequence[Hit],
    started: float,
) -> None:
    """Keep the query and its results (when the tenant's `search_logging` flag is on)."""
    logged = SearchQuery(
        tenant_id=principal.tenant_id,
        query_text=query,
        model_id=model_id,
        user_id=principal.user_id,
        mode=mode,
        filters=filters,
        top_k=k,
        similarity_threshold=min_similarity,
        latency_ms=(time.perf_counter() - started) * 1000,
    )
    session.add(logged)
    await session.flush()
    session.add_all(
        SearchResult(
            tenant_id=principal.tenant_id,
            query_id=logged.id,
            chunk_id=hit.chunk_id,
            similarity_score=hit.similarity if hit.similarity is not None else hit.score,
            rank=rank,
        )
        for rank, hit in enumerate(hits, start=1)
    )
