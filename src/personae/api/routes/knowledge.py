"""Search over the tenant's knowledge, and the embedding models in use."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel

from personae.api.deps import RequestContext, authorized
from personae.knowledge.embedding_models import listed
from personae.knowledge.schemas import EmbeddingModelOut, SearchRequest, SearchResponse
from personae.knowledge.service import search_documents

router = APIRouter(prefix="/v1", tags=["knowledge"])


@router.post("/search", response_model=SearchResponse)
async def search(
    body: SearchRequest,
    request: Request,
    context: Annotated[RequestContext, authorized("documents:read")],
) -> SearchResponse:
    """Hybrid (default), vector or full-text search over document chunks, in one SQL
    statement; `k` results whenever `k` exist."""
    found = await search_documents(
        context.session,
        context.principal,
        request.app.state.embedder,
        body,
        max_k=request.app.state.settings.search_max_k,
    )
    await context.commit()  # the query's log, when the tenant keeps one
    return found


@router.get("/embedding-models", response_model=list[EmbeddingModelOut])  # type: ignore[valid-type]
async def embedding_models(
    context: Annotated[RequestContext, authorized("documents:read")],
) -> list[BaseModel]:
    return [EmbeddingModelOut.model_validate(row) for row in await listed(context.session)]
