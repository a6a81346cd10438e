"""Memory search: the episodes that best answer a query, in their scope and time.

Episodes are ranked as chunks are (vector and full-text ranks fused, one statement; see
`knowledge.search`), each fused score then weighed by the episode's importance and its
recency, and by its nearness in the knowledge graph to the entities the query names (the
episodes that mention them or their neighbours, the facts about them). Time travel:
`as_of` keeps what had happened and still held then (event time), `known_at` what we had
recorded by then and not yet retracted (system time). A period the query names ("in
October 2023") counts its episodes more. The facts that match the query come
along, with their validity. `budget_tokens` keeps the best results that fit a prompt's
budget.

The order is total: equal scores are ordered by id, at every cut (each list's candidates,
the fused best, the results), and recency is reckoned from the start of the day (or
`as_of`), so the same query over the same memories gives the same results in the same
order, restart or not, until the day turns."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from personae.db.statements import cached_text
from personae.errors import ValidationFailed
from personae.kernel.principal import Principal
from personae.memory.bitemporal import AS_OF, HELD_AT, KNOWN
from personae.memory.graph import REACHED, seeded
from personae.memory.periods import SAID_AFTER, SAID_BEFORE, named_period
from personae.memory.resolution import Scope
from personae.providers.embeddings import Embedder, Embedders, label
from personae.retrieval.embedding_models import QueryVector, tenant_embedder
from personae.retrieval.hybrid import Corpus, Mode, bound, corpus_statement

EPISODES = Corpus(
    table="episodes",
    text="content",
    tsv="content_tsv",
    model="embedding_model",
    live=KNOWN,
    shown="c.id, c.episode_type, c.content, c.importance, c.occurred_at, c.valid_from, "
    "c.valid_to, c.recorded_at, c.persona_id, c.agent_id, c.customer_profile_id, "
    "c.session_id, c.source_event_ids, c.metadata",
    weight="(1 + CAST(:importance_weight AS float8) * (c.importance - 0.5)) * "
    "(1 - CAST(:recency_weight AS float8) + CAST(:recency_weight AS float8) * "
    "power(0.5, greatest(extract(epoch FROM coalesce(CAST(:as_of AS timestamptz), "
    "date_trunc('day', now())) "
    "- c.occurred_at), 0) "
    "/ 86400 / CAST(:half_life_days AS float8))) * "
    "(1 + CAST(:when_weight AS float8) * CASE "
    "WHEN c.occurred_at >= CAST(:when_from AS timestamptz) "
    "AND c.occurred_at < CAST(:when_to AS timestamptz) THEN 1 "
    "WHEN CAST(:when_month AS int) IN ("
    "extract(month FROM c.occurred_at - CAST(:said_after AS interval)), "
    "extract(month FROM c.occurred_at + CAST(:said_before AS interval))) THEN 1 ELSE 0 END)",
    text_rows="true",  # an episode is one row whatever its model, embedded or not
)

FACTS = Corpus(
    table="relationships",
    text="fact",
    tsv="fact_tsv",
    model="embedding_model",
    live=f"{KNOWN} AND {HELD_AT.format(at=AS_OF)}",
    shown="c.id, c.fact, c.relationship_type AS relation, c.source_entity_id AS subject_id, "
    "s.name AS subject, c.target_entity_id AS object_id, o.name AS object, c.confidence, "
    "c.valid_from, c.valid_to, c.recorded_at, c.source_episode_ids",
    vector="fact_embedding",
    joins="JOIN entities AS s ON s.id = c.source_entity_id "
    "JOIN entities AS o ON o.id = c.target_entity_id",
    text_rows="true",
)

NEAR = (
    "(1 + CAST(:graph_weight AS float8) * coalesce((SELECT max(1.0 / (1 + g.distance)) "
    "FROM reached AS g WHERE {linked}), 0))"
)
"""A factor for a row linked to the query's entities or their neighbours (`graph.REACHED`,
found in the same statement): more the nearer."""
EPISODE_NEAR = NEAR.format(
    linked="g.entity_id IN (SELECT m.entity_id FROM entity_mentions AS m WHERE m.episode_id = c.id)"
)
FACT_NEAR = NEAR.format(linked="g.entity_id IN (c.source_entity_id, c.target_entity_id)")

EXPANDED = """
WITH hits AS MATERIALIZED ({hits})
SELECT h.*, NULL::uuid AS of_id, NULL::text AS came_as FROM hits AS h
{expansions}
ORDER BY of_id NULLS FIRST, score DESC, id
"""
"""The hits of an episode search (`{hits}`, its statement), then what comes along with
them (`{expansions}`), each with the hit it came with (`of_id`) and how: one statement."""

NEIGHBOURS = """
UNION ALL
SELECT n.*, NULL, NULL, NULL, NULL, NULL, NULL, e.id, 'neighbour' FROM hits AS e
CROSS JOIN LATERAL (
  (SELECT {shown} FROM episodes AS c
   WHERE c.session_id = e.session_id AND (c.occurred_at, c.id) < (e.occurred_at, e.id)
     AND c.episode_type = 'TURN' AND {live}
   ORDER BY c.occurred_at DESC, c.id DESC LIMIT :neighbours)
  UNION ALL
  (SELECT {shown} FROM episodes AS c
   WHERE c.session_id = e.session_id AND (c.occurred_at, c.id) > (e.occurred_at, e.id)
     AND c.episode_type = 'TURN' AND {live}
   ORDER BY c.occurred_at, c.id LIMIT :neighbours)
) AS n
WHERE e.session_id IS NOT NULL AND e.episode_type = 'TURN'"""
"""The turns just before and after each turn hit in its session (by time, then creation)."""

SOURCES = """
UNION ALL
SELECT s.*, NULL, NULL, NULL, NULL, NULL, NULL, e.id, 'source' FROM hits AS e
CROSS JOIN LATERAL (
  SELECT {shown} FROM episodes AS c
  WHERE c.id IN (SELECT CAST(x AS uuid) FROM jsonb_array_elements_text(e.metadata->'sources') AS x)
    AND c.episode_type = 'TURN' AND {live}
  ORDER BY {nearest}, c.id LIMIT :sources
) AS s
WHERE e.episode_type = 'SUMMARY'"""
"""The source turns of each summary hit nearest the query (the first ones, searching by
text alone)."""

SCOPES = ("persona_id", "agent_id", "customer_profile_id", "session_id")
CHARS_PER_TOKEN = 4
"""For `budget_tokens`: a token is about four characters of English."""


@dataclass(frozen=True)
class Weights:
    importance: float = 0.5
    """How much importance (0 to 1) moves a score: by ±importance/2 around the middle."""
    recency: float = 0.2
    """The share of a score that decays with age."""
    half_life_days: float = 30.0
    graph: float = 0.5
    """How much more a result about an entity the query names counts (less per hop away)."""
    neighbour: float = 0.5
    """A hit's neighbouring turns count this share of its score (0: none come along)."""
    source: float = 0.3
    """A summary's best source turns count this share of its score (0: none stand for it).
    Low: on LoCoMo dev, sources at the summary's full score (1.0) took the places of better
    turns (session-path recall 0.57; 0.58 at 0.6); at 0.3 they follow the turns."""
    when: float = 1.0
    """How much more an episode of the period the query names counts ("in October 2023",
    `memory.periods`): 1 doubles it."""


@dataclass(frozen=True)
class MemoryQuery:
    query: str
    mode: Mode = "hybrid"
    k: int = 10
    persona_id: uuid.UUID | None = None
    agent_id: uuid.UUID | None = None
    customer_profile_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    episode_types: Sequence[str] = ()
    as_of: datetime | None = None
    known_at: datetime | None = None
    min_similarity: float | None = None
    budget_tokens: int | None = None
    facts: int = 5
    """Facts to return alongside (0: none)."""
    graph_depth: int = 1
    """Hops from the query's entities whose results count more (0: no graph)."""
    neighbours: int = 1
    """Episodes on each side of a hit in its session that may come along (the turns
    around an answer often hold the rest of it)."""
    summaries: int = 0
    """Summaries searched apart (by their words), each bringing its best source turns (0:
    none). Off by default: on LoCoMo dev it added nothing to recall@10 at any share that
    did not displace better turns, and cost a statement (p95 +11 ms at 100,000 episodes)."""
    sources: int = 2
    """The source turns a matching summary stands for, those nearest the query: they take
    its place (summaries themselves are results only when `episode_types` asks for them)."""
    weights: Weights = field(default_factory=Weights)


@dataclass(frozen=True)
class EpisodeHit:
    id: uuid.UUID
    episode_type: str
    content: str
    importance: float
    occurred_at: datetime
    valid_from: datetime
    valid_to: datetime | None
    recorded_at: datetime
    persona_id: uuid.UUID | None
    agent_id: uuid.UUID | None
    customer_profile_id: uuid.UUID | None
    session_id: uuid.UUID | None
    source_event_ids: list[int]
    metadata: dict[str, Any]
    score: float
    similarity: float | None
    text_score: float | None
    vector_rank: int | None
    text_rank: int | None
    highlight: str | None


@dataclass(frozen=True)
class FactHit:
    id: uuid.UUID
    fact: str | None
    relation: str
    subject_id: uuid.UUID
    subject: str
    object_id: uuid.UUID
    object: str
    confidence: float
    valid_from: datetime
    valid_to: datetime | None
    recorded_at: datetime
    source_episode_ids: list[uuid.UUID]
    score: float
    similarity: float | None
    text_score: float | None
    vector_rank: int | None
    text_rank: int | None
    highlight: str | None


@dataclass(frozen=True)
class Recalled:
    episodes: list[EpisodeHit]
    facts: list[FactHit]
    tokens: int
    """About how many tokens the returned texts hold."""


@dataclass(frozen=True)
class Ready:
    """A memory search made ready: what its statements bind and filter on."""

    request: MemoryQuery
    params: dict[str, Any]
    clauses: list[str]
    """The episodes' filters (scope, types, time)."""
    near: bool
    """Whether the graph is walked (`graph.REACHED`) to weigh the results."""


async def search(
    session: AsyncSession,
    principal: Principal,
    embedders: Embedders,
    request: MemoryQuery,
    *,
    max_k: int = 100,
    vector: Sequence[float] | None = None,
    embedder: Embedder | None = None,
) -> Recalled:
    """What the tenant's memory holds that best answers `request` (at most `max_k`);
    `vector`, `embedder`: the query's embedding and the tenant's embedder when the caller
    has them already."""
    _check(principal, request, max_k)
    # the query is embedded (in a thread) while the database finds the tenant's model
    query = None
    if request.mode != "text" and vector is None:
        query = QueryVector(embedders, request.query)
    try:
        embedder = embedder or await tenant_embedder(session, embedders, principal.tenant_id)
        if query is not None:
            vector = await query.by(embedder)
    finally:
        if query is not None:
            query.cancel()
    made = _ready(request, embedder, vector)
    found = await episodes(session, made)
    return within_budget(found, await facts(session, made), request.budget_tokens)


def ready(
    principal: Principal,
    request: MemoryQuery,
    embedder: Embedder,
    vector: Sequence[float] | None,
    *,
    max_k: int = 100,
) -> Ready:
    """`request` made ready for `episodes` and `facts` (which may run on two connections
    at once), the query's `vector` made by the tenant's `embedder`."""
    _check(principal, request, max_k)
    return _ready(request, embedder, vector)


def _ready(request: MemoryQuery, embedder: Embedder, vector: Sequence[float] | None) -> Ready:
    params = bound(
        request.query,
        request.mode,
        request.k,
        label(embedder),
        vector,
        min_similarity=request.min_similarity,
    )
    weights = request.weights
    params |= {
        "known_at": request.known_at,
        "as_of": request.as_of,
        "importance_weight": weights.importance,
        "recency_weight": weights.recency,
        "half_life_days": weights.half_life_days,
    } | _period(request)
    clauses = []
    for scope in SCOPES:
        if getattr(request, scope) is not None:
            clauses.append(f"c.{scope} = :{scope}")
            params[scope] = getattr(request, scope)
    if request.episode_types:
        clauses.append("c.episode_type = ANY(:episode_types)")
        params["episode_types"] = list(request.episode_types)
    if request.as_of is not None:
        clauses.append(HELD_AT.format(at=":as_of"))
    near = _near(request)
    if near is not None:  # the graph is walked in each search's own statement
        params |= near
    return Ready(request, params, clauses, near is not None)


def _period(request: MemoryQuery) -> dict[str, Any]:
    """The parameters of the period the query names (all None: it names none, or the
    period counts for nothing)."""
    named = named_period(request.query) if request.weights.when else None
    return {
        "when_weight": request.weights.when,
        "when_from": named.start - SAID_BEFORE if named and named.start else None,
        "when_to": named.end + SAID_AFTER if named and named.end else None,
        "when_month": named.month if named else None,
        "said_before": SAID_BEFORE,
        "said_after": SAID_AFTER,
    }


def _check(principal: Principal, request: MemoryQuery, max_k: int) -> None:
    principal.require("memory:read")
    if request.k > max_k:
        raise ValidationFailed(f"at most {max_k} results", field="k")


async def episodes(session: AsyncSession, search: Ready) -> list[EpisodeHit]:
    """The episodes that best answer the search, with their neighbours (best first).

    Summaries do not take places of their own: the turns are searched alone, and the best
    matching summaries (`summaries` of them, searched apart) each bring their source turns
    nearest the query, with a share of their score (unless summaries are asked for)."""
    request = search.request
    pointing = _summaries_apart(request)
    clauses = [*search.clauses, "c.episode_type <> 'SUMMARY'"] if pointing else search.clauses
    found = await _expanded(session, search, clauses, neighbours=True)
    if pointing and request.summaries and request.mode != "vector":  # by their words
        lane = [*search.clauses, "c.episode_type = 'SUMMARY'"]
        found += await _expanded(session, search, lane, k=request.summaries)
    hits: dict[uuid.UUID, EpisodeHit] = {}
    for hit, of, came_as in found:
        if of is None:
            hits.setdefault(hit.id, hit)
            continue
        weights = request.weights
        share = weights.neighbour if came_as == "neighbour" else weights.source
        score = of.score * share  # a share of the score of the hit it came with
        if hit.id not in hits or hits[hit.id].score < score:
            hits[hit.id] = replace(hit, score=score)
    kept = [h for h in hits.values() if not (pointing and h.episode_type == "SUMMARY")]
    return sorted(kept, key=lambda hit: (-hit.score, hit.id))[: request.k]


Came = tuple[EpisodeHit, EpisodeHit | None, str | None]
"""A hit, or an episode that came with a hit (the hit, and how: neighbour or source)."""


async def _expanded(
    session: AsyncSession,
    search: Ready,
    clauses: Sequence[str],
    *,
    neighbours: bool = False,
    k: int | None = None,
) -> list[Came]:
    """The hits among the episodes `clauses` keep, with their neighbours (turns) or, for
    summaries, their best sources: one statement."""
    request = search.request
    near = f"{EPISODES.weight} * {EPISODE_NEAR}"
    # the summaries' lane by their words alone: a vector search of the few summaries among
    # many turns would walk the whole index (iterative scans) to find them
    statement = _statement(search, EPISODES, near, clauses, "text" if k is not None else None)
    params = dict(search.params)
    if k is not None:
        params |= {"k": k, "candidates": max(20, 2 * k)}
    live = EPISODES.where(search.clauses)
    expansions = []
    if neighbours and request.neighbours and request.weights.neighbour:
        expansions.append(NEIGHBOURS.format(shown=EPISODES.shown, live=live))
        params["neighbours"] = request.neighbours
    if k is not None:  # the summaries' lane
        nearest = (
            "c.occurred_at"
            if request.mode == "text"
            else "c.embedding <=> (SELECT CAST(:vector AS vector))"
        )
        expansions.append(SOURCES.format(shown=EPISODES.shown, live=live, nearest=nearest))
        params["sources"] = request.sources
    if expansions:
        statement = EXPANDED.format(hits=statement, expansions="".join(expansions))
    rows = await session.execute(cached_text(statement), params)
    found: list[Came] = []
    by_id: dict[uuid.UUID, EpisodeHit] = {}
    for row in rows.mappings():
        fields = dict(row)
        of, came_as = fields.pop("of_id", None), fields.pop("came_as", None)
        hit = EpisodeHit(**fields | {"metadata": fields["metadata"] or {}})
        if of is None:
            by_id[hit.id] = hit
        found.append((hit, by_id.get(of) if of is not None else None, came_as))
    return found


def _summaries_apart(request: MemoryQuery) -> bool:
    """Whether summaries are kept out of the results (unless they are asked for)."""
    asked = set(request.episode_types)
    return not asked or ("SUMMARY" not in asked and "TURN" in asked)


async def facts(session: AsyncSession, search: Ready) -> list[FactHit]:
    """The facts that best answer the search (`request.facts` of them, best first)."""
    request = search.request
    if not request.facts:
        return []
    about = (
        [
            "c.source_entity_id IN (SELECT e.id FROM entities AS e "
            "WHERE e.customer_profile_id = :customer_profile_id)"
        ]
        if request.customer_profile_id is not None
        else []
    )
    statement = _statement(search, FACTS, FACT_NEAR, about)
    found = await session.execute(cached_text(statement), {**search.params, "k": request.facts})
    return [FactHit(**row) for row in found.mappings()]


def _statement(
    search: Ready, corpus: Corpus, near: str, clauses: Sequence[str], mode: Mode | None = None
) -> str:
    """The search's statement over `corpus` (in `mode`, else the request's), each row
    weighed by `near` (SQL) instead when the graph is walked (in the statement itself:
    `graph.REACHED`)."""
    mode = mode or search.request.mode
    if not search.near:
        return corpus_statement(corpus, mode, clauses)
    weighed = replace(corpus, weight=near)
    return corpus_statement(weighed, mode, clauses, prelude=[REACHED])


def _near(request: MemoryQuery) -> dict[str, Any] | None:
    """The parameters of graph proximity (the entities the query names, and those within
    `graph_depth` hops); None when the graph counts for nothing or the query has no words."""
    if not request.graph_depth or not request.weights.graph:
        return None
    seeds = seeded(
        named_in=request.query,
        depth=request.graph_depth,
        scope=Scope(customer_profile_id=request.customer_profile_id),
    )
    return None if seeds is None else {**seeds, "graph_weight": request.weights.graph}


def tokens(text_: str | None) -> int:
    return (len(text_ or "") + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


def within_budget(episodes: list[EpisodeHit], facts: list[FactHit], budget: int | None) -> Recalled:
    """The best results, facts and episodes by score, whose texts fit `budget` tokens."""
    if budget is None:
        used = sum(tokens(e.content) for e in episodes) + sum(tokens(f.fact) for f in facts)
        return Recalled(episodes, facts, used)
    ranked: list[EpisodeHit | FactHit] = sorted([*episodes, *facts], key=lambda h: (-h.score, h.id))
    kept: set[uuid.UUID] = set()
    used = 0
    for hit in ranked:
        cost = tokens(hit.content if isinstance(hit, EpisodeHit) else hit.fact)
        if used + cost <= budget:
            kept.add(hit.id)
            used += cost
    return Recalled([e for e in episodes if e.id in kept], [f for f in facts if f.id in kept], used)
