"""Finding the entity a name means, or making it: the same person under another spelling or
an alias is one entity, two people with similar names are two.

In order: the exact name (or canonical name), an alias, then the nearest names by
embedding (`entity_similarity` and above, same type) confirmed by spelling
(`entity_spelling` and above: a typo, not another name). A match learns the new spelling
as an alias. Entities are matched within one scope (the customer profile, or none).

A batch of names is resolved as if one by one, in a few statements: the entities they
could name are looked up together, the names none spells are embedded in one call and
their nearest entities found in one query, and the names are then resolved in order in
memory, each seeing the entities and spellings the ones before it made or taught."""

from __future__ import annotations

import difflib
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import Boolean, ColumnElement, any_, cast, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from personae.db import locks
from personae.db.bulk import built, insert_all
from personae.db.tenancy import SEARCH_EFFORT
from personae.db.types import TEXTS, UUIDS, uuid7
from personae.memory.models import Entity
from personae.providers.embeddings import Embedder, label
from personae.retrieval.hybrid import vector_literal
from personae.settings import Settings

UNTYPED = "thing"
NEAREST = 5
"""Names compared by spelling after the embedding search."""
NAME_SEARCH_EF = 40
"""HNSW candidates for that search (pgvector's default): a few near names are wanted, not
the many a memory search ranks."""


@dataclass(frozen=True)
class EntityRef:
    """An entity as a fact or an extraction names it."""

    name: str
    entity_type: str | None = None
    """None: an entity of any type matches, and a new one is a `thing`."""
    aliases: Sequence[str] = ()


@dataclass(frozen=True)
class Thresholds:
    similarity: float = 0.7
    """Name embeddings at least this close are candidates (cosine)."""
    spelling: float = 0.88
    """A candidate is the same entity when the spellings agree at least this much."""

    @classmethod
    def configured(cls, settings: Settings) -> Thresholds:
        return cls(settings.memory_entity_similarity, settings.memory_entity_spelling)


@dataclass(frozen=True)
class Scope:
    persona_id: uuid.UUID | None = None
    agent_id: uuid.UUID | None = None
    customer_profile_id: uuid.UUID | None = None


NO_SCOPE = Scope()
DEFAULTS = Thresholds()


@dataclass
class Resolved:
    entity: Entity
    created: bool
    matched_by: str
    """exact, alias, similar or new."""
    learned: list[str] = field(default_factory=list)


def spelling(a: str, b: str) -> float:
    """How alike two names are written, 0 to 1 (case and spacing ignored)."""
    return difflib.SequenceMatcher(None, _folded(a), _folded(b)).ratio()


class Resolver:
    """Names resolved in order, as if one by one, against the entities known when it was
    prepared (looked up together) and those it made or taught a spelling since; `save`
    writes what it made and taught."""

    def __init__(
        self,
        session: AsyncSession,
        embedder: Embedder,
        tenant_id: uuid.UUID,
        scope: Scope,
        thresholds: Thresholds,
    ) -> None:
        self.session, self.embedder, self.tenant_id = session, embedder, tenant_id
        self.scope, self.thresholds = scope, thresholds
        self._known: dict[uuid.UUID, Entity] = {}
        self._by_name: dict[str, list[Entity]] = defaultdict(list)
        self._by_canonical: dict[str, list[Entity]] = defaultdict(list)
        self._by_alias: dict[str, list[Entity]] = defaultdict(list)
        self._vectors: dict[str, list[float]] = {}
        self._nearest: dict[tuple[str, str | None], list[Entity]] = {}
        self._embeddings: dict[uuid.UUID, np.ndarray] = {}
        """The unit name vectors of the entities found near a name."""
        self._made: list[Entity] = []
        self._made_vectors = _Rows()

    @classmethod
    async def prepared(
        cls,
        session: AsyncSession,
        embedder: Embedder,
        tenant_id: uuid.UUID,
        refs: Sequence[EntityRef],
        scope: Scope = NO_SCOPE,
        thresholds: Thresholds = DEFAULTS,
        *,
        texts: Sequence[str] = (),
    ) -> tuple[Resolver, list[list[float]]]:
        """A resolver for `refs` (locks on their names held), and the vectors of `texts`,
        embedded in the same call as the names that need it."""
        resolver = cls(session, embedder, tenant_id, scope, thresholds)
        primaries = {_folded(r.name) for r in refs}
        await locks.hold_all(session, [f"entity:{tenant_id}:{n}" for n in primaries])
        every = sorted(primaries | {_folded(a) for r in refs for a in r.aliases})
        names = cast(every, TEXTS)
        known = await session.execute(
            select(Entity)
            .options(defer(Entity.name_embedding))
            .where(
                *resolver._in_scope(),
                or_(
                    func.lower(Entity.name) == any_(names),
                    func.lower(Entity.canonical_name) == any_(names),
                    _any_alias_in(every),
                ),
            )
            .order_by(Entity.created_at, Entity.id)
        )
        for entity in known.scalars():
            resolver._know(entity)
        unseen = [(_spaced(r.name), r.entity_type) for r in refs if resolver._named(r) is None]
        unmatched = list(dict.fromkeys(unseen))
        spellings = list(dict.fromkeys(name for name, _ in unmatched))
        vectors = await embedder.embed([*spellings, *texts]) if spellings or texts else []
        resolver._vectors = dict(zip(spellings, vectors, strict=False))
        await resolver._find_nearest(unmatched)
        return resolver, [list(v) for v in vectors[len(spellings) :]]

    def resolve(self, ref: EntityRef) -> Resolved:
        """The entity `ref` names: by its name, an alias, a near name spelled alike, or new."""
        found = self._named(ref)
        if found is not None:
            entity, how = found
            spellings = ref.aliases if how == "exact" else [_spaced(ref.name), *ref.aliases]
            return Resolved(entity, False, how, self._learn(entity, spellings))
        name = _spaced(ref.name)
        vector = self._vectors[name]
        for candidate, apart in self._candidates(name, ref.entity_type, vector):
            if apart <= 1 - self.thresholds.similarity and (
                max(spelling(name, n) for n in (candidate.name, *candidate.aliases))
                >= self.thresholds.spelling
            ):
                learned = self._learn(candidate, [name, *ref.aliases])
                return Resolved(candidate, False, "similar", learned)
        folded = _folded(name)
        entity = built(
            Entity,
            id=uuid7(),
            tenant_id=self.tenant_id,
            name=name,
            entity_type=ref.entity_type or UNTYPED,
            aliases=_distinct([a for a in ref.aliases if _folded(a) != folded]),
            name_embedding=list(vector),
            embedding_model=label(self.embedder),
            persona_id=self.scope.persona_id,
            agent_id=self.scope.agent_id,
            customer_profile_id=self.scope.customer_profile_id,
            learned=True,
        )
        self._know(entity)
        self._made.append(entity)
        self._made_vectors.append(_unit(vector))
        return Resolved(entity, True, "new")

    async def save(self) -> None:
        """Write the entities made and the spellings taught."""
        await insert_all(self.session, self._made)
        self._made, self._made_vectors = [], _Rows()
        await self.session.flush()

    def _in_scope(self) -> tuple[ColumnElement[bool], ...]:
        return (
            Entity.expired_at.is_(None),
            Entity.customer_profile_id.is_not_distinct_from(self.scope.customer_profile_id),
        )

    def _know(self, entity: Entity) -> None:
        if entity.id in self._known:
            return
        self._known[entity.id] = entity
        self._by_name[entity.name.lower()].append(entity)
        if entity.canonical_name is not None:
            self._by_canonical[entity.canonical_name.lower()].append(entity)
        for alias in entity.aliases:
            self._by_alias[alias.lower()].append(entity)

    def _named(self, ref: EntityRef) -> tuple[Entity, str] | None:
        """The first-made entity of the right type with `ref`'s name, else with one of its
        spellings as name or alias."""
        names = [_folded(n) for n in (ref.name, *ref.aliases)]
        none: list[Entity] = []
        by_name, by_alias = self._by_name.get, self._by_alias.get
        exact = self._first(
            [*by_name(names[0], none), *self._by_canonical.get(names[0], none)], ref
        )
        if exact is not None:
            return exact, "exact"
        aliased = self._first(
            [e for n in names for e in (*by_name(n, none), *by_alias(n, none))], ref
        )
        return None if aliased is None else (aliased, "alias")

    def _first(self, entities: list[Entity], ref: EntityRef) -> Entity | None:
        """The first made of `entities` of `ref`'s type (any, if it names none)."""
        typed = [e for e in entities if ref.entity_type in (None, e.entity_type)]
        return min(typed, key=_age) if typed else None

    async def _find_nearest(self, wanted: Sequence[tuple[str, str | None]]) -> None:
        """The nearest known names by embedding (any distance: the index would scan on for
        a bound), for every name not found by spelling."""
        if not wanted:
            return
        effort = await self.session.execute(_EFFORT, {"ef_search": str(NAME_SEARCH_EF)})
        found = await self.session.execute(
            _NEAREST,
            {
                "names": [n for n, _ in wanted],
                "vectors": [vector_literal(self._vectors[n]) for n, _ in wanted],
                "types": [t for _, t in wanted],
                "profile": self.scope.customer_profile_id,
                "model": label(self.embedder),
                "k": 2 * NEAREST,  # room for ties at the edge
            },
        )
        rows = found.all()
        await self.session.execute(SEARCH_EFFORT, {"ef_search": effort.scalar_one()})
        unknown = {row.id for row in rows} - set(self._known)
        if unknown:
            loaded = await self.session.execute(
                select(Entity)
                .options(defer(Entity.name_embedding))
                .where(Entity.id == any_(cast(list(unknown), UUIDS)))
            )
            for entity in loaded.scalars():
                self._know(entity)
        if not rows:
            return
        vectors = np.asarray([row.vector for row in rows], dtype=np.float32)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        for row, vector in zip(rows, vectors, strict=True):
            self._nearest.setdefault((row.name, row.type), []).append(self._known[row.id])
            self._embeddings[row.id] = vector

    def _candidates(
        self, name: str, entity_type: str | None, vector: Sequence[float]
    ) -> list[tuple[Entity, float]]:
        """The `NEAREST` names by embedding among those known and those made since, nearest
        first (distances computed alike for both; ties by name, then id)."""
        query = _unit(vector)
        near = [
            (e, float(1.0 - self._embeddings[e.id] @ query))
            for e in self._nearest.get((name, entity_type), [])
        ]
        if self._made:
            apart = 1.0 - self._made_vectors.all() @ query
            if entity_type is not None:
                typed = [e.entity_type == entity_type for e in self._made]
                apart = np.where(typed, apart, np.inf)
            # only those that may rank (ties at 6 places kept)
            edge = np.partition(apart, NEAREST - 1)[NEAREST - 1] if len(apart) > NEAREST else np.inf
            kept = np.flatnonzero(apart <= edge + 1e-6)
            near += [(self._made[i], float(apart[i])) for i in kept if apart[i] != np.inf]
        ranked = sorted(near, key=lambda pair: (round(pair[1], 6), pair[0].name, pair[0].id))
        return ranked[:NEAREST]

    def _learn(self, entity: Entity, spellings: Sequence[str]) -> list[str]:
        """Add the spellings the entity did not know as aliases; returns them."""
        known = {_folded(n) for n in (entity.name, entity.canonical_name or "", *entity.aliases)}
        new = [s for s in _distinct(spellings) if _folded(s) not in known]
        if new:
            entity.aliases = [*entity.aliases, *new]
            for alias in new:
                self._by_alias[alias.lower()].append(entity)
        return new


_EFFORT = text(
    "SELECT current_setting('hnsw.ef_search') AS before, "
    "set_config('hnsw.ef_search', :ef_search, true)"
)
_NEAREST = text(
    """
    SELECT q.name, q.type, n.id, CAST(n.embedding AS real[]) AS vector
    FROM unnest(CAST(:names AS text[]), CAST(:vectors AS vector[]), CAST(:types AS text[]))
        AS q(name, vector, type)
    CROSS JOIN LATERAL (
        SELECT e.id, e.name_embedding AS embedding
        FROM entities AS e
        WHERE e.expired_at IS NULL
          AND e.customer_profile_id IS NOT DISTINCT FROM CAST(:profile AS uuid)
          AND e.embedding_model = :model AND e.name_embedding IS NOT NULL
          AND (q.type IS NULL OR e.entity_type = q.type)
        ORDER BY e.name_embedding <=> q.vector
        LIMIT :k
    ) AS n
    """
)


async def resolve_all(
    session: AsyncSession,
    embedder: Embedder,
    tenant_id: uuid.UUID,
    refs: Sequence[EntityRef],
    scope: Scope = NO_SCOPE,
    thresholds: Thresholds = DEFAULTS,
) -> list[Resolved]:
    """The entity each of `refs` names in `scope`, in order, made if none matches (under
    locks on the names, so two writers never make one twice)."""
    resolver, _ = await Resolver.prepared(session, embedder, tenant_id, refs, scope, thresholds)
    resolved = [resolver.resolve(ref) for ref in refs]
    await resolver.save()
    return resolved


class _Rows:
    """A matrix that grows by rows (room doubled when full)."""

    def __init__(self) -> None:
        self._data = np.zeros((0, 0), dtype=np.float32)
        self._count = 0

    def append(self, row: np.ndarray) -> None:
        if self._count == len(self._data):
            grown = np.zeros((max(16, 2 * self._count), len(row)), dtype=np.float32)
            if self._count:
                grown[: self._count] = self._data[: self._count]
            self._data = grown
        self._data[self._count] = row
        self._count += 1

    def all(self) -> np.ndarray:
        return self._data[: self._count]


def _age(entity: Entity) -> tuple[float, uuid.UUID]:
    """First made first: by creation time (those made here, not stored yet, last), then id
    (UUIDv7)."""
    made = entity.created_at is None
    return (float("inf") if made else entity.created_at.timestamp(), entity.id)


def _unit(vector: Sequence[float]) -> np.ndarray:
    array = np.asarray(vector, dtype=np.float32)
    return array / max(float(np.linalg.norm(array)), 1e-12)


def _spaced(name: str) -> str:
    return " ".join(name.split())


def _folded(name: str) -> str:
    return " ".join(name.lower().split())


def _distinct(names: Sequence[str]) -> list[str]:
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(_folded(name), _spaced(name))
    return list(seen.values())


def _any_alias_in(names: Sequence[str]) -> ColumnElement[bool]:
    """An alias among `names` (folded), through the index on folded aliases (migration 0013)."""
    folded = func.personae_folded(Entity.aliases, type_=TEXTS)
    return folded.op("&&", return_type=Boolean)(cast(list(names), TEXTS))
