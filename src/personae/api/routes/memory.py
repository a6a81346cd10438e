"""Memory: episodes written directly, and facts (stored as given, read as of any time)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from personae.api.deps import RequestContext, authorized
from personae.api.resource_routes import mount
from personae.api.services import Shared
from personae.errors import ValidationFailed
from personae.memory import facts as facts_service
from personae.memory import graph as memory_graph
from personae.memory import schemas
from personae.memory import search as memory_search
from personae.memory.episodes import EPISODES, write_many
from personae.memory.resolution import EntityRef, Scope, Thresholds

router = APIRouter(prefix="/v1/memory", tags=["memory"])
IMPORTS = r"^/v1/memory/(episodes/batch|facts)$"
"""Their bodies may be larger than others (`max_import_bytes`)."""


@router.post("/episodes/batch", status_code=201, response_model=schemas.EpisodesWritten)
async def write_episodes(
    shared: Shared,
    body: schemas.EpisodesIn,
    context: Annotated[RequestContext, authorized("memory:write")],
) -> schemas.EpisodesWritten:
    """Store many episodes in one transaction (an imported history: each with its own
    `occurred_at`), at most `memory_import_episodes`; all or none. Each is embedded in the
    background, as every episode is."""
    limit = shared.settings.memory_import_episodes
    if len(body.episodes) > limit:
        raise ValidationFailed(f"at most {limit} episodes a request", field="episodes")
    given = [episode.model_dump(exclude_unset=True) for episode in body.episodes]
    ids = await write_many(context.session, context.principal, given)
    await context.commit()
    return schemas.EpisodesWritten(ids=ids)


mount(
    router,
    EPISODES,
    path="/episodes",
    id_param="episode_id",
    out=schemas.EpisodeOut,
    create=schemas.EpisodeCreate,
    filters=schemas.EpisodeFilters,
)


def _inputs(body: schemas.FactsIn) -> list[facts_service.FactInput]:
    given = [
        facts_service.FactInput(
            subject=EntityRef(f.subject, f.subject_type, tuple(f.subject_aliases)),
            relation=f.relation,
            object=EntityRef(f.object, f.object_type),
            fact=f.fact,
            valid_from=f.valid_from,
            valid_to=f.valid_to,
            confidence=f.confidence,
            source_episode_ids=tuple(f.source_episode_ids),
            exclusive=f.exclusive,
            metadata=f.metadata,
        )
        for f in body.facts
    ]
    short = [
        facts_service.FactInput(EntityRef(s), schemas.relation_name(r, index), EntityRef(o))
        for index, (s, r, o) in enumerate(body.triples)
    ]
    return given + short


@router.post("/facts", status_code=201, response_model=list[facts_service.StoredFact])
async def record_facts(
    shared: Shared,
    body: schemas.FactsIn,
    context: Annotated[RequestContext, authorized("memory:write")],
) -> list[facts_service.StoredFact]:
    """Store facts as given, no model involved: each subject and object is found among the
    known entities (or made), and a fact that contradicts a current one cuts it short; at
    most `memory_facts_per_request` in one transaction, all or none."""
    limit = shared.settings.memory_facts_per_request
    if len(body.facts) + len(body.triples) > limit:
        raise ValidationFailed(f"at most {limit} facts and triples a request", field="facts")
    scope = Scope(body.persona_id, body.agent_id, body.customer_profile_id)
    stored = await facts_service.record(
        context.session,
        context.principal,
        shared.embedders,
        _inputs(body),
        scope,
        Thresholds.configured(shared.settings),
    )
    shown = [facts_service.shown(s) for s in stored]
    await context.commit()
    return shown


@router.get("/facts", response_model=list[facts_service.FactRow])
async def list_facts(
    query: Annotated[schemas.FactQuery, Query()],
    context: Annotated[RequestContext, authorized("memory:read")],
) -> list[facts_service.FactRow]:
    """The facts that held at `as_of` as we knew them at `known_at` (both now by default)."""
    return await facts_service.facts(context.session, **query.model_dump())


@router.get("/graph", response_model=schemas.GraphOut)
async def graph(
    query: Annotated[schemas.GraphQuery, Query()],
    context: Annotated[RequestContext, authorized("memory:read")],
) -> schemas.GraphOut:
    """The knowledge graph around an entity (or the entities a text names): the entities
    within `depth` hops through facts, and the facts between them, at `as_of` as known at
    `known_at`."""
    found = await memory_graph.neighbourhood(
        context.session,
        entity_ids=query.seeds(),
        named_in=query.named_in,
        depth=query.depth,
        scope=Scope(customer_profile_id=query.customer_profile_id),
        as_of=query.as_of,
        known_at=query.known_at,
    )
    return schemas.GraphOut(entities=found.entities, facts=found.facts)


@router.post("/search", response_model=schemas.MemorySearchOut)
async def search(
    shared: Shared,
    body: schemas.MemorySearchIn,
    context: Annotated[RequestContext, authorized("memory:read")],
) -> schemas.MemorySearchOut:
    """The episodes (and facts) that best answer `query`: vector and full-text ranks fused,
    weighed by importance, recency and the period the query names, in the scope and at the
    time asked."""
    weights = memory_search.Weights(
        importance=body.importance_weight,
        recency=body.recency_weight,
        half_life_days=body.half_life_days,
        graph=body.graph_weight,
        neighbour=body.neighbour_weight,
        source=body.source_weight,
        when=body.when_weight,
    )
    weighing = {"importance_weight", "recency_weight", "half_life_days", "graph_weight"}
    fields = body.model_dump(
        exclude=weighing | {"neighbour_weight", "source_weight", "when_weight"}
    )
    recalled = await memory_search.search(
        context.session,
        context.principal,
        shared.embedders,
        memory_search.MemoryQuery(**fields, weights=weights),
        max_k=shared.settings.search_max_k,
    )
    return schemas.MemorySearchOut(
        episodes=recalled.episodes, facts=recalled.facts, tokens=recalled.tokens
    )
