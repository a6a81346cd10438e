"""Documents: uploads and new versions (ingested in the background), listing, chunks,
and how they are organised."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from personae.api.deps import RequestContext, authorized
from personae.api.resource_routes import Parent, list_of, mount
from personae.api.services import Shared
from personae.api.uploads import RAW_BODY, read_file
from personae.knowledge import documents, organisation
from personae.knowledge.schemas import (
    CategoryCreate,
    CategoryOut,
    CategoryUpdate,
    ChunkOut,
    CollectionCreate,
    CollectionItemCreate,
    CollectionItemOut,
    CollectionOut,
    CollectionUpdate,
    DocumentFilters,
    DocumentOut,
    DocumentTeamGrant,
    DocumentUpdate,
    DocumentVersionOut,
    TagCreate,
    TagOut,
)
from personae.validation import Input

router = APIRouter(prefix="/v1", tags=["documents"])
UPLOADS = r"^/v1/documents(/[^/]+/content)?$"
"""Request paths whose bodies are documents (their own size limit)."""

Filename = Annotated[str, Query(min_length=1, max_length=1000)]


@router.post(
    "/documents",
    status_code=202,
    response_model=DocumentOut,
    summary="Upload a document (text, Markdown, HTML or PDF) as the request body",
    openapi_extra=RAW_BODY,
)
async def upload(
    shared: Shared,
    request: Request,
    context: Annotated[RequestContext, authorized("documents:create")],
    filename: Filename,
    persona_id: uuid.UUID | None = None,
) -> BaseModel:
    """The document is `processing` until its chunks are written (a background job);
    then `completed`, or `failed` with `error_message`. 415 for other types."""
    await context.session.rollback()  # hold no connection while the file arrives
    content = await read_file(request, shared.settings.max_document_bytes)
    row = await documents.upload(
        context.session, context.principal, filename, content, persona_id=persona_id
    )
    shown = DocumentOut.model_validate(row)
    await context.commit()
    return shown


@router.put(
    "/documents/{document_id}/content",
    status_code=202,
    response_model=DocumentOut,
    summary="Upload a new version of a document",
    openapi_extra=RAW_BODY,
)
async def new_version(
    shared: Shared,
    document_id: uuid.UUID,
    request: Request,
    context: Annotated[RequestContext, authorized("documents:update")],
    filename: Filename,
    change_note: Annotated[str | None, Query(max_length=2000)] = None,
) -> BaseModel:
    """Search keeps finding the old version's chunks until the new ones are written; the
    swap is one transaction."""
    await documents.DOCUMENTS.get(context.session, context.principal, document_id, action="update")
    await context.session.rollback()
    content = await read_file(request, shared.settings.max_document_bytes)
    row = await documents.replace(
        context.session, context.principal, document_id, filename, content, change_note=change_note
    )
    shown = DocumentOut.model_validate(row)
    await context.commit()
    return shown


mount(
    router,
    documents.DOCUMENTS,
    path="/documents",
    id_param="document_id",
    out=DocumentOut,
    update=DocumentUpdate,
    filters=DocumentFilters,
)


@router.get("/documents/{document_id}/versions", response_model=list_of(DocumentVersionOut))
async def versions(
    document_id: uuid.UUID, context: Annotated[RequestContext, authorized("documents:read")]
) -> list[BaseModel]:
    rows = await documents.versions(context.session, context.principal, document_id)
    return [DocumentVersionOut.model_validate(row) for row in rows]


@router.get("/documents/{document_id}/chunks", response_model=list_of(ChunkOut))
async def chunks(
    document_id: uuid.UUID, context: Annotated[RequestContext, authorized("documents:read")]
) -> list[BaseModel]:
    rows = await documents.chunks(context.session, context.principal, document_id)
    return [ChunkOut.model_validate(row) for row in rows]


class CategoryIds(Input):
    category_ids: list[uuid.UUID] = Field(max_length=50)


class Tags(Input):
    tags: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(max_length=50)


class Teams(Input):
    teams: list[DocumentTeamGrant] = Field(max_length=50)


@router.put("/documents/{document_id}/categories", response_model=CategoryIds)
async def set_categories(
    document_id: uuid.UUID,
    body: CategoryIds,
    context: Annotated[RequestContext, authorized("documents:update")],
) -> CategoryIds:
    """File the document under exactly these categories."""
    ids = await organisation.set_categories(
        context.session, context.principal, document_id, body.category_ids
    )
    await context.commit()
    return CategoryIds(category_ids=ids)


@router.get("/documents/{document_id}/tags", response_model=Tags)
async def get_tags(
    document_id: uuid.UUID, context: Annotated[RequestContext, authorized("documents:read")]
) -> Tags:
    return Tags(
        tags=await organisation.document_tags(context.session, context.principal, document_id)
    )


@router.put("/documents/{document_id}/tags", response_model=Tags)
async def set_tags(
    document_id: uuid.UUID,
    body: Tags,
    context: Annotated[RequestContext, authorized("documents:update")],
) -> Tags:
    """Tag the document with exactly these tags (new tags are made)."""
    names = await organisation.set_tags(context.session, context.principal, document_id, body.tags)
    await context.commit()
    return Tags(tags=names)


@router.put("/documents/{document_id}/teams", response_model=Teams)
async def set_teams(
    document_id: uuid.UUID,
    body: Teams,
    context: Annotated[RequestContext, authorized("documents:update")],
) -> Teams:
    """Share the document with exactly these teams; an empty list shares it with everyone
    who may read documents."""
    grants = await organisation.set_teams(
        context.session,
        context.principal,
        document_id,
        [(grant.team_id, grant.permission) for grant in body.teams],
    )
    await context.commit()
    return Teams(teams=[DocumentTeamGrant(team_id=t, permission=p) for t, p in grants])


mount(
    router,
    organisation.CATEGORIES,
    path="/document-categories",
    id_param="category_id",
    out=CategoryOut,
    create=CategoryCreate,
    update=CategoryUpdate,
    tag="documents",
)
mount(
    router,
    organisation.TAGS,
    path="/document-tags",
    id_param="tag_id",
    out=TagOut,
    create=TagCreate,
    tag="documents",
)
mount(
    router,
    organisation.COLLECTIONS,
    path="/collections",
    id_param="collection_id",
    out=CollectionOut,
    create=CollectionCreate,
    update=CollectionUpdate,
    tag="documents",
)
mount(
    router,
    organisation.COLLECTION_ITEMS,
    path="/items",
    id_param="item_id",
    out=CollectionItemOut,
    create=CollectionItemCreate,
    parent=Parent(organisation.COLLECTIONS, "/collections", "collection_id"),
    tag="documents",
)
