"""Knowledge as the API and the runtime use it: search with its logging."""

from __future__ import annotations

import time

from sqlalchemy.ext.asyncio import AsyncSession

from personae.errors import ValidationFailed
from personae.kernel.principal import Principal
from personae.knowledge import search
from personae.knowledge.schemas import SearchRequest, SearchResponse
from personae.providers.embeddings import Embedders, label
from personae.retrieval.embedding_models import register, tenant_embedder
from personae.settings_store.flags import enabled

FILTER_FIELDS = (
    "persona_id",
    "collection_id",
    "category_id",
    "tags",
    "document_id",
    "created_after",
    "created_before",
    "entity_id",
)


async def search_documents(
    session: AsyncSession,
    principal: Principal,
    embedders: Embedders,
    request: SearchRequest,
    *,
    max_k: int = 100,
) -> SearchResponse:
    """Search the tenant's chunks with its embedding model; the query and its results are
    kept when the tenant's `search_logging` flag is on."""
    started = time.perf_counter()
    if request.k > max_k:
        raise ValidationFailed(f"at most {max_k} results", field="k")
    embedder = await tenant_embedder(session, embedders, principal.tenant_id)
    filters = search.Filters(**{name: getattr(request, name) for name in FILTER_FIELDS})
    asked = search.Request(
        request.query,
        request.mode,
        request.k,
        request.min_similarity,
        filters,
        request.curated_boost,
    )
    hits = await search.search(session, principal, embedder, asked)
    if await enabled(session, principal.tenant_id, "search_logging"):
        await search.log_search(
            session,
            principal,
            await register(session, embedder),
            request.query,
            request.mode,
            request.k,
            request.min_similarity,
            request.model_dump(mode="json", include=set(FILTER_FIELDS), exclude_defaults=True),
            hits,
            started,
        )
    return SearchResponse(
        mode=request.mode,
        model=label(embedder),
        lexical=embedder.lexical,
        results=hits,
    )
