"""Request and response shapes of memory: episodes, entities and their types."""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field, JsonValue, model_validator
from pydantic_core import PydanticCustomError

from personae.db.shapes import input_shape, output_shape
from personae.errors import ValidationFailed
from personae.memory.facts import FactRow
from personae.memory.graph import Node
from personae.memory.models import Entity, EntityType, Episode
from personae.memory.search import EpisodeHit, FactHit
from personae.memory.writing import EPISODE_TEXT
from personae.validation import Input

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


EPISODE_FIELDS = [
    "episode_type",
    "content",
    "importance",
    "occurred_at",
    "valid_from",
    "valid_to",
    "persona_id",
    "agent_id",
    "customer_profile_id",
    "session_id",
    "group_id",
    "metadata",
]
EpisodeOut = output_shape(Episode, exclude=["content_tsv"])
if TYPE_CHECKING:  # a shape made at run time is, to a type checker, its base
    EpisodeCreate = Input
else:
    EpisodeCreate = input_shape(
        Episode,
        EPISODE_FIELDS,
        required=["content"],
        overrides={
            "episode_type": (
                Literal["NOTE", "FACT", "EVENT", "SUMMARY", "TURN"],
                Field("NOTE", description="What the memory is; turns usually come from sessions."),
            ),
            "content": (str, Field(min_length=1, max_length=EPISODE_TEXT)),
            "importance": (float, Field(0.5, ge=0, le=1, description="salience, 0 to 1")),
        },
    )


MAX_IMPORT = 100_000
"""Episodes a batch may hold at most (`memory_import_episodes` sets the limit below)."""


class EpisodesIn(Input):
    episodes: list[EpisodeCreate] = Field(min_length=1, max_length=MAX_IMPORT)


class EpisodesWritten(BaseModel):
    ids: list[uuid.UUID]
    """The new episodes' ids, in the order given."""


class EpisodeFilters(Input):
    persona_id: uuid.UUID | None = None
    agent_id: uuid.UUID | None = None
    customer_profile_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    episode_type: Literal["TURN", "SUMMARY", "FACT", "EVENT", "NOTE"] | None = None


RELATION = r"^[a-z][a-z0-9_]*$"
MAX_FACTS = 100_000
"""Facts and triples a request may hold at most (`memory_facts_per_request` sets the
limit below)."""
Name = Annotated[str, Field(min_length=1, max_length=500)]


class FactIn(Input):
    """A fact as a triple: subject, relation, object, with when it held."""

    subject: str = Field(min_length=1, max_length=500)
    subject_type: str | None = Field(
        None, min_length=1, max_length=100, description="none: any type matches"
    )
    subject_aliases: list[str] = Field(default_factory=list, max_length=50)
    relation: str = Field(min_length=1, max_length=100, pattern=RELATION)
    object: str = Field(min_length=1, max_length=500)
    object_type: str | None = Field(None, min_length=1, max_length=100)
    fact: str | None = Field(None, max_length=10_000, description="the fact in words")
    valid_from: AwareDatetime | None = Field(None, description="when it began to hold (now)")
    valid_to: AwareDatetime | None = None
    confidence: float = Field(1.0, ge=0, le=1)
    source_episode_ids: list[uuid.UUID] = Field(default_factory=list, max_length=100)
    exclusive: bool | None = Field(
        None, description="For a new relation: one object per subject at a time."
    )
    metadata: dict[str, JsonValue] = Field(default_factory=dict)


class FactsIn(Input):
    """Facts to store as they are, no model involved; `triples` are the short form."""

    facts: list[FactIn] = Field(default_factory=list, max_length=MAX_FACTS)
    triples: list[tuple[Name, Annotated[str, Field(min_length=1, max_length=100)], Name]] = Field(
        default_factory=list, max_length=MAX_FACTS
    )
    persona_id: uuid.UUID | None = None
    agent_id: uuid.UUID | None = None
    customer_profile_id: uuid.UUID | None = None
    """The entities' scope: a customer's entities are apart from everyone else's."""

    @model_validator(mode="after")
    def _some_but_not_too_many(self) -> FactsIn:
        count = len(self.facts) + len(self.triples)
        if not 0 < count <= MAX_FACTS:
            raise PydanticCustomError(
                "fact_count", f"send 1 to {MAX_FACTS} facts and triples in all"
            )
        return self


class FactQuery(Input):
    subject_id: uuid.UUID | None = None
    object_id: uuid.UUID | None = None
    relation: str | None = Field(None, max_length=100)
    as_of: AwareDatetime | None = Field(None, description="event time: what held then (now)")
    known_at: AwareDatetime | None = Field(
        None, description="system time: as we knew it then (now)"
    )
    history: bool = Field(False, description="every time, not only as_of")
    limit: int = Field(100, ge=1, le=1000)


class GraphQuery(Input):
    """Where to start (an entity, or the entities a text names), how far, and when."""

    entity_id: uuid.UUID | None = None
    named_in: str | None = Field(
        None, min_length=1, max_length=4000, description="start from the entities it names"
    )
    depth: int = Field(2, ge=0, le=4, description="hops through facts")
    customer_profile_id: uuid.UUID | None = Field(
        None, description="a customer's entities too (else the tenant's shared ones only)"
    )
    as_of: AwareDatetime | None = Field(None, description="event time: facts that held then")
    known_at: AwareDatetime | None = Field(None, description="system time: as known then")

    def seeds(self) -> list[uuid.UUID]:
        if self.entity_id is None and self.named_in is None:
            raise ValidationFailed("give an entity_id or a text (named_in)", field="entity_id")
        return [] if self.entity_id is None else [self.entity_id]


class GraphOut(BaseModel):
    entities: list[Node]
    facts: list[FactRow]


def relation_name(relation: str, index: int) -> str:
    """A triple's relation as a name (`lives in` → `lives_in`); 422 if it holds none."""
    name = "_".join(relation.lower().split())
    if not re.fullmatch(RELATION, name) or len(name) > 100:
        raise ValidationFailed(
            "a relation is words of letters, digits and underscores", field=f"triples.{index}.1"
        )
    return name


class MemorySearchIn(Input):
    """What to recall: the query, where (scope), when (`as_of`, `known_at`), how much."""

    query: str = Field(min_length=1, max_length=4000)
    mode: Literal["vector", "text", "hybrid"] = "hybrid"
    k: int = Field(default=10, ge=1, le=1000)
    persona_id: uuid.UUID | None = None
    agent_id: uuid.UUID | None = None
    customer_profile_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    episode_types: list[Literal["TURN", "SUMMARY", "FACT", "EVENT", "NOTE"]] = Field(
        default_factory=list, max_length=5
    )
    as_of: AwareDatetime | None = Field(None, description="event time: what had happened then")
    known_at: AwareDatetime | None = Field(None, description="system time: as we knew it then")
    min_similarity: float | None = Field(default=None, ge=-1, le=1)
    budget_tokens: int | None = Field(
        default=None, ge=1, le=1_000_000, description="keep the best results that fit"
    )
    facts: int = Field(default=5, ge=0, le=100, description="matching facts to include")
    importance_weight: float = Field(default=0.5, ge=0, le=2)
    recency_weight: float = Field(default=0.2, ge=0, le=1)
    half_life_days: float = Field(default=30.0, gt=0, le=36_500)
    when_weight: float = Field(
        default=1.0,
        ge=0,
        le=5,
        description='boost of episodes of the period the query names ("in October 2023")',
    )
    graph_weight: float = Field(
        default=0.5, ge=0, le=5, description="boost of results about the query's entities"
    )
    graph_depth: int = Field(default=1, ge=0, le=4, description="hops from those entities")
    neighbours: int = Field(
        default=1, ge=0, le=5, description="episodes each side of a hit in its session"
    )
    neighbour_weight: float = Field(
        default=0.5, ge=0, le=1, description="the share of its hit's score a neighbour gets"
    )
    summaries: int = Field(
        default=0,
        ge=0,
        le=10,
        description="summaries (searched apart, by their words) that each bring their "
        "source turns nearest the query; summaries never take places themselves unless "
        "episode_types asks for them",
    )
    sources: int = Field(default=2, ge=1, le=20, description="source turns per summary")
    source_weight: float = Field(
        default=0.3, ge=0, le=1, description="the share of its summary's score a source gets"
    )


class MemorySearchOut(BaseModel):
    episodes: list[EpisodeHit]
    facts: list[FactHit]
    tokens: int
    """About how many tokens the returned texts hold."""
