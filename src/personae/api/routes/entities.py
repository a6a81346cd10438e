"""Entities and entity types, and which documents name them."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter

from personae.api.deps import RequestContext, authorized
from personae.api.resource_routes import mount
from personae.knowledge import mentions
from personae.memory import schemas
from personae.memory.entities import ENTITIES, ENTITY_TYPES

router = APIRouter(prefix="/v1", tags=["memory"])
mount(
    router,
    ENTITY_TYPES,
    path="/entity-types",
    id_param="entity_type_id",
    out=schemas.EntityTypeOut,
    create=schemas.EntityTypeCreate,
    update=schemas.EntityTypeUpdate,
)
mount(
    router,
    ENTITIES,
    path="/entities",
    id_param="entity_id",
    out=schemas.EntityOut,
    create=schemas.EntityCreate,
    update=schemas.EntityUpdate,
)


@router.get("/entities/{entity_id}/documents", response_model=list[schemas.EntityDocument])
async def documents_naming(
    entity_id: uuid.UUID, context: Annotated[RequestContext, authorized("memory:read")]
) -> list[schemas.EntityDocument]:
    """The documents you may read that name the entity, most relevant first."""
    await ENTITIES.get(context.session, context.principal, entity_id)
    rows = await mentions.naming(context.session, context.principal, entity_id)
    return [schemas.EntityDocument.model_validate(row) for row in rows]


@router.get("/documents/{document_id}/entities", response_model=list[schemas.DocumentEntity])
async def entities_named(
    document_id: uuid.UUID, context: Annotated[RequestContext, authorized("documents:read")]
) -> list[schemas.DocumentEntity]:
    """The entities the document's current version names, most relevant first."""
    rows = await mentions.of_document(context.session, context.principal, document_id)
    return [schemas.DocumentEntity.model_validate(row) for row in rows]
