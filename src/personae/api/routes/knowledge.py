"""Search over the tenant's knowledge, and the embedding models in use."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel

from personae.api.deps import RequestContext, authorized
from personae.api.resource_routes import list_of
from personae.api.services import Shared
from personae.knowledge import migration
from personae.knowledge.schemas import (
    EmbeddingModelOut,
    EmbeddingsState,
    Pruned,
    SearchRequest,
    SearchResponse,
    SwitchRequest,
)
from personae.knowledge.service import search_documents
from personae.providers.embeddings import label
from personae.retrieval.embedding_models import listed, start_switch, tenant_embedder

router = APIRouter(prefix="/v1", tags=["knowledge"])


@router.post("/search", response_model=SearchResponse)
async def search(
    shared: Shared,
    body: SearchRequest,
    context: Annotated[RequestContext, authorized("documents:read")],
) -> SearchResponse:
    """Hybrid (default), vector or full-text search over document chunks, in one SQL
    statement; `k` results whenever `k` exist."""
    found = await search_documents(
        context.session,
        context.principal,
        shared.embedders,
        body,
        max_k=shared.settings.search_max_k,
    )
    await context.commit()  # the query's log, when the tenant keeps one
    return found


@router.get("/embedding-models", response_model=list_of(EmbeddingModelOut))
async def embedding_models(
    context: Annotated[RequestContext, authorized("documents:read")],
) -> list[BaseModel]:
    return [EmbeddingModelOut.model_validate(row) for row in await listed(context.session)]


async def _state(
    shared: Shared, context: RequestContext, switching_to: str | None = None
) -> EmbeddingsState:
    embedders = shared.embedders
    current = await tenant_embedder(context.session, embedders, context.principal.tenant_id)
    return EmbeddingsState(
        model=label(current),
        lexical=current.lexical,
        available=[label(embedders.get(p)) for p in embedders.providers()],
        rows=await migration.census(context.session),
        switching_to=switching_to,
    )


@router.get("/embeddings", response_model=EmbeddingsState)
async def embeddings_state(
    shared: Shared, context: Annotated[RequestContext, authorized("documents:read")]
) -> EmbeddingsState:
    """The tenant's embedding model, the models it may move to, and its rows per model."""
    return await _state(shared, context)


@router.post("/embeddings/switch", status_code=202, response_model=EmbeddingsState)
async def switch(
    shared: Shared,
    body: SwitchRequest,
    context: Annotated[RequestContext, authorized("settings:write")],
) -> EmbeddingsState:
    """Move the tenant to another model in the background: every chunk and entry gets a
    vector of it while search goes on with the current one, then the tenant switches."""
    embedders = shared.embedders
    target = await start_switch(context.session, context.principal, embedders, body.to)
    state = await _state(shared, context, switching_to=label(target))
    await context.commit()
    return state


@router.post("/embeddings/prune", response_model=Pruned)
async def prune(
    shared: Shared,
    context: Annotated[RequestContext, authorized("settings:write")],
) -> Pruned:
    """Delete the rows of other models that have a vector of the tenant's current one."""
    embedders = shared.embedders
    current = await tenant_embedder(context.session, embedders, context.principal.tenant_id)
    removed = await migration.prune(context.session, context.principal, label(current))
    await context.commit()
    return Pruned(kept=label(current), removed=removed)
