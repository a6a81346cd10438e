"""Request and response shapes of documents, their organisation, and search."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from personae.db.shapes import input_shape, output_shape
from personae.knowledge.models import (
    Chunk,
    Collection,
    CollectionItem,
    Document,
    DocumentCategory,
    DocumentTag,
    DocumentVersion,
)
from personae.knowledge.search import Hit
from personae.retrieval.models import EmbeddingModel
from personae.validation import Input

DocumentOut = output_shape(Document, exclude=["name_tsv", "file_path"])
DocumentUpdate = input_shape(Document, ["name", "persona_id", "metadata"], partial=True)
DocumentVersionOut = output_shape(DocumentVersion, exclude=["storage_object_id"])
ChunkOut = output_shape(Chunk, exclude=["text_tsv"])
EmbeddingModelOut = output_shape(EmbeddingModel)

CategoryOut = output_shape(DocumentCategory)
CategoryCreate = input_shape(
    DocumentCategory, ["name", "parent_id", "description"], required=["name"]
)
CategoryUpdate = input_shape(DocumentCategory, ["name", "parent_id", "description"], partial=True)
TagOut = output_shape(DocumentTag)
TagCreate = input_shape(DocumentTag, ["name"], required=["name"])

CollectionOut = output_shape(Collection)
CollectionCreate = input_shape(Collection, ["name", "description"], required=["name"])
CollectionUpdate = input_shape(Collection, ["name", "description"], partial=True)
CollectionItemOut = output_shape(CollectionItem)
CollectionItemCreate = input_shape(CollectionItem, ["document_id"], required=["document_id"])


class DocumentFilters(Input):
    persona_id: uuid.UUID | None = None
    status: Literal["processing", "completed", "failed"] | None = None


class DocumentTeamGrant(Input):
    team_id: uuid.UUID
    permission: Literal["read", "write"] = "read"


class SearchRequest(Input):
    query: str = Field(min_length=1, max_length=4000)
    mode: Literal["vector", "text", "hybrid"] = "hybrid"
    k: int = Field(default=10, ge=1, le=1000)
    min_similarity: float | None = Field(
        default=None, ge=-1, le=1, description="cosine floor for vector matches"
    )
    persona_id: uuid.UUID | None = None
    collection_id: uuid.UUID | None = None
    category_id: uuid.UUID | None = Field(default=None, description="this category or below")
    tags: list[str] = Field(default_factory=list, max_length=20, description="any of these")
    document_id: uuid.UUID | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    entity_id: uuid.UUID | None = Field(default=None, description="chunks naming this entity")
    curated_boost: float = Field(default=1.0, ge=0, le=10, description="score factor")


class SearchResponse(BaseModel):
    mode: str
    model: str
    lexical: bool
    """True when the vectors came from the hashing embedder (shared words, not meaning)."""
    results: list[Hit]


class EmbeddingsState(BaseModel):
    model: str
    """The tenant's model (`provider/model`): its searches and new rows use it."""
    lexical: bool
    available: list[str]
    """The models this installation runs, which the tenant may switch to."""
    rows: dict[str, int]
    """Live chunks and entries per model."""
    switching_to: str | None = None


class SwitchRequest(Input):
    to: str = Field(min_length=1, max_length=50, description="minilm, hashing or openai")


class Pruned(BaseModel):
    kept: str
    removed: int
