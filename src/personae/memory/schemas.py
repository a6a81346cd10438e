"""Request and response shapes of entities and their types."""

from __future__ import annotations

import uuid

from pydantic import BaseModel

from personae.db.shapes import input_shape, output_shape
from personae.memory.models import Entity, EntityType

ENTITY_FIELDS = [
    "name",
    "entity_type",
    "entity_type_id",
    "canonical_name",
    "aliases",
    "attributes",
    "persona_id",
]
EntityOut = output_shape(Entity, exclude=["name_tsv", "name_embedding"])
EntityCreate = input_shape(Entity, ENTITY_FIELDS, required=["name", "entity_type"])
EntityUpdate = input_shape(Entity, ENTITY_FIELDS, partial=True)
EntityTypeOut = output_shape(EntityType)
EntityTypeFields = ["name", "description", "attributes_schema"]
EntityTypeCreate = input_shape(EntityType, EntityTypeFields, required=["name"])
EntityTypeUpdate = input_shape(EntityType, EntityTypeFields, partial=True)


class DocumentEntity(BaseModel):
    """An entity a document names."""

    entity_id: uuid.UUID
    name: str
    entity_type: str
    relevance: float
    """The share of the document's chunks that name it."""
    mentions: int


class EntityDocument(BaseModel):
    """A document that names an entity."""

    document_id: uuid.UUID
    name: str
    relevance: float
