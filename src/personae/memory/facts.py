"""Facts: relationships between entities, valid in event time (`valid_from`, `valid_to`)
and known in system time (`recorded_at`, `expired_at`).

A fact is never overwritten. When a new one contradicts what we know (the same subject
and an exclusive relation, another object, overlapping times), the old row is expired
and what still holds of it is recorded again with its validity cut short: so "where did
she live in March" has one answer, and "…as we knew it on 1 April" still has the old one.
A fact restated (same subject, relation and object, overlapping or adjoining times) is
merged into one row with both supports."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import any_, cast, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, defer
from sqlalchemy.orm.attributes import set_committed_value

from personae.db import locks
from personae.db.bulk import built, insert_all
from personae.db.types import FLOATS, TEXTS, UUIDS, uuid7
from personae.errors import ValidationFailed
from personae.kernel.audit.service import record as audit
from personae.kernel.principal import Principal
from personae.memory.mentions import mention
from personae.memory.models import Entity, Relationship, RelationshipType
from personae.memory.resolution import (
    DEFAULTS,
    NO_SCOPE,
    EntityRef,
    Resolved,
    Resolver,
    Scope,
    Thresholds,
)
from personae.providers.embeddings import Embedder, Embedders, label
from personae.retrieval.embedding_models import tenant_embedder


@dataclass(frozen=True)
class FactInput:
    subject: EntityRef
    relation: str
    object: EntityRef
    fact: str | None = None
    """The fact in words; by default `subject relation object`."""
    valid_from: datetime | None = None
    """When it began to hold; by default now."""
    valid_to: datetime | None = None
    confidence: float = 1.0
    source_episode_ids: Sequence[uuid.UUID] = ()
    exclusive: bool | None = None
    """For a relation not declared yet: may a subject have one object at a time?"""
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def words(self) -> str:
        return (
            self.fact or f"{self.subject.name} {self.relation.replace('_', ' ')} {self.object.name}"
        )


@dataclass(frozen=True)
class Stored:
    relationship: Relationship
    subject: Resolved
    object: Resolved
    closed: int
    """How many facts this one cut short."""


async def assert_facts(
    session: AsyncSession,
    embedder: Embedder,
    tenant_id: uuid.UUID,
    facts: Sequence[FactInput],
    scope: Scope = NO_SCOPE,
    thresholds: Thresholds = DEFAULTS,
) -> list[Stored]:
    """Record `facts` as if one by one, in order, in the session's transaction (the caller
    checks and audits), in a few set-wise statements whatever their number; their entities
    are linked to the episodes that support them and name them."""
    if not facts:
        return []
    now = (await session.execute(select(func.now()))).scalar_one()
    for index, fact in enumerate(facts):
        if fact.valid_to is not None and fact.valid_to <= (fact.valid_from or now):
            raise ValidationFailed("must be after valid_from", field=f"facts.{index}.valid_to")
    kinds = await _relation_types(session, tenant_id, facts)
    refs = [ref for fact in facts for ref in (fact.subject, fact.object)]
    resolver, vectors = await Resolver.prepared(
        session, embedder, tenant_id, refs, scope, thresholds, texts=[f.words() for f in facts]
    )
    ends = [(resolver.resolve(f.subject), resolver.resolve(f.object)) for f in facts]
    await resolver.save()
    since: dict[Pair, datetime] = {}
    for fact, (subject, _) in zip(facts, ends, strict=True):
        pair, start = (subject.entity.id, fact.relation), fact.valid_from or now
        since[pair] = min(since.get(pair, start), start)
    ledger = await _Ledger.opened(session, now, since)
    stored = [
        ledger.place(fact, kinds[fact.relation], subject, target, vector, label(embedder))
        for fact, (subject, target), vector in zip(facts, ends, vectors, strict=True)
    ]
    await ledger.save()
    supported = [s for s in stored if s.relationship.source_episode_ids]
    if supported:
        episodes = {e for s in supported for e in s.relationship.source_episode_ids}
        named = {e.entity.id for s in supported for e in (s.subject, s.object)}
        await mention(session, tenant_id, episodes, named)
    return stored


Pair = tuple[uuid.UUID, str]
"""A subject and a relation: the facts that may contradict one another."""


class _Ledger:
    """The current facts about some subjects' relations, locked, changed in memory fact by
    fact as the one-by-one path would change them in the database; `save` writes that."""

    def __init__(self, session: AsyncSession, now: datetime) -> None:
        self.session, self.now = session, now
        self.current: dict[Pair, list[Relationship]] = defaultdict(list)
        self.added: dict[uuid.UUID, Relationship] = {}
        self.expired: dict[uuid.UUID, Relationship] = {}
        self.found: set[uuid.UUID] = set()
        """The rows read from the database, their fact vectors left unread (only a few rows
        are cut short, and vectors are long to read)."""
        self.copied: dict[uuid.UUID, Relationship] = {}
        """Remnants of rows found, by id: the row found, whose vector they take at `save`."""

    @classmethod
    async def opened(
        cls, session: AsyncSession, now: datetime, since: Mapping[Pair, datetime]
    ) -> _Ledger:
        """The current facts of each pair that did not end before `since` the pair's
        earliest new fact begins: those that end sooner cannot meet it."""
        ledger = cls(session, now)
        pairs = sorted(since)
        await locks.hold_all(session, [f"facts:{source}:{relation}" for source, relation in pairs])
        # The subjects' rows, read through their index; the pairs are picked here. (Matched
        # in SQL against the pairs, on a table filling faster than it is analyzed, the
        # planner read each relation's rows and compared every pair with each: 10 ms.)
        subjects, relations = sorted({s for s, _ in pairs}), sorted({r for _, r in pairs})
        found = await session.execute(
            select(Relationship)
            .options(defer(Relationship.fact_embedding))
            .where(
                Relationship.source_entity_id == any_(cast(subjects, UUIDS)),
                Relationship.relationship_type == any_(cast(relations, TEXTS)),
                Relationship.expired_at.is_(None),
                or_(Relationship.valid_to.is_(None), Relationship.valid_to >= min(since.values())),
            )
            .order_by(Relationship.valid_from, Relationship.id)
            .with_for_update(of=Relationship)
        )
        for row in found.scalars():
            pair = (row.source_entity_id, row.relationship_type)
            if pair in since and (row.valid_to is None or row.valid_to >= since[pair]):
                ledger.found.add(row.id)
                ledger.current[pair].append(row)
        return ledger

    def place(
        self,
        fact: FactInput,
        kind: RelationshipType,
        subject: Resolved,
        target: Resolved,
        vector: Sequence[float],
        model: str,
    ) -> Stored:
        """Record `fact`: merged into the row that says it already, or added, cutting
        short the facts it contradicts."""
        key = (subject.entity.id, fact.relation)
        current = self.current[key]
        start, end = fact.valid_from or self.now, fact.valid_to
        same = [r for r in current if r.target_entity_id == target.entity.id]
        others = [r for r in current if r.target_entity_id != target.entity.id]
        others = others if kind.is_exclusive else []
        if end is None:  # a later fact about the subject ends this one
            later = [r.valid_from for r in others if r.valid_from > start]
            end = min(later) if later else None
        sources = list(fact.source_episode_ids)
        for row in same:
            if _covers(row, start, end):  # known already: one more support
                row.source_episode_ids = _union(row.source_episode_ids, sources)
                row.confidence = max(row.confidence, fact.confidence)
                return Stored(row, subject, target, 0)
        for row in [r for r in same if _touches(r, start, end)]:  # restated for longer
            start = min(start, row.valid_from)
            end = None if end is None or row.valid_to is None else max(end, row.valid_to)
            sources = _union(row.source_episode_ids, sources)
            self._expire(key, row)
        closed = 0
        for row in others:
            if not _overlaps(row, start, end):
                continue
            self._expire(key, row)
            closed += 1
            if row.valid_from < start:
                self._add(key, self._remnant(row, row.valid_from, start))
            if end is not None and (row.valid_to is None or row.valid_to > end):
                self._add(key, self._remnant(row, end, row.valid_to))
        relationship = built(
            Relationship,
            id=uuid7(),
            tenant_id=subject.entity.tenant_id,
            source_entity_id=subject.entity.id,
            target_entity_id=target.entity.id,
            relationship_type=fact.relation,
            relationship_type_id=kind.id,
            fact=fact.words(),
            fact_embedding=list(vector),
            embedding_model=model,
            confidence=fact.confidence,
            valid_from=start,
            valid_to=end,
            recorded_at=self.now,
            expired_at=None,
            source_episode_ids=sources,
            metadata_=dict(fact.metadata),
        )
        self._add(key, relationship)
        return Stored(relationship, subject, target, closed)

    def _remnant(self, row: Relationship, start: datetime, end: datetime | None) -> Relationship:
        """What still holds of `row` between `start` and `end`, recorded anew."""
        stored = self.copied.get(row.id, row)  # the row in the database it comes from
        copied = stored.id in self.found
        remnant = built(
            Relationship,
            id=uuid7(),
            tenant_id=row.tenant_id,
            source_entity_id=row.source_entity_id,
            target_entity_id=row.target_entity_id,
            relationship_type=row.relationship_type,
            relationship_type_id=row.relationship_type_id,
            fact=row.fact,
            fact_embedding=None if copied else row.fact_embedding,
            embedding_model=row.embedding_model,
            confidence=row.confidence,
            valid_from=start,
            valid_to=end,
            recorded_at=self.now,
            expired_at=None,
            source_episode_ids=list(row.source_episode_ids),
            metadata_={**row.metadata_, "revises": str(row.id)},
        )
        if copied:
            self.copied[remnant.id] = stored
        return remnant

    def _add(self, key: Pair, row: Relationship) -> None:
        self.added[row.id] = row
        current = self.current[key]
        current.append(row)
        current.sort(key=lambda r: r.valid_from)

    def _expire(self, key: Pair, row: Relationship) -> None:
        """No longer what we believe, from now; a row recorded in this very batch was never
        known to anyone, and goes."""
        self.current[key].remove(row)
        if self.added.pop(row.id, None) is None:
            self.expired[row.id] = row

    async def save(self) -> None:
        """Write the rows added, the rows changed and the rows expired (deleted, if recorded
        in this very transaction)."""
        copies = {id_: row.id for id_, row in self.copied.items() if id_ in self.added}
        if copies:  # first: the rows they come from may go
            found = await self.session.execute(
                select(Relationship.id, cast(Relationship.fact_embedding, FLOATS)).where(
                    Relationship.id == any_(cast(list(set(copies.values())), UUIDS))
                )
            )
            vectors: dict[uuid.UUID, list[float]] = {id_: vector for id_, vector in found}
            for id_, source in copies.items():
                self.added[id_].fact_embedding = vectors[source]
        expiring = []
        for row in self.expired.values():
            if row.recorded_at == self.now:
                await self.session.delete(row)
            else:
                expiring.append(row)
        await self.session.flush()  # first: a row added may say what one expired said
        if expiring:  # one statement, not one each
            await self.session.execute(
                update(Relationship)
                .where(Relationship.id == any_(cast([row.id for row in expiring], UUIDS)))
                .values(expired_at=self.now)
                .execution_options(synchronize_session=False)
            )
            for row in expiring:
                set_committed_value(row, "expired_at", self.now)
        await insert_all(self.session, list(self.added.values()))


async def _relation_types(
    session: AsyncSession, tenant_id: uuid.UUID, facts: Sequence[FactInput]
) -> dict[str, RelationshipType]:
    """The declared relations the facts name, declared now if new (under locks: once)."""
    names = list(dict.fromkeys(f.relation for f in facts))
    await locks.hold_all(session, [f"relation:{tenant_id}:{name}" for name in names])
    found = await session.execute(select(RelationshipType).where(RelationshipType.name.in_(names)))
    kinds = {kind.name: kind for kind in found.scalars()}
    for index, fact in enumerate(facts):
        kind = kinds.get(fact.relation)
        if kind is None:
            kind = RelationshipType(
                id=uuid7(),
                tenant_id=tenant_id,
                name=fact.relation,
                is_exclusive=bool(fact.exclusive),
            )
            kinds[fact.relation] = kind
            session.add(kind)
        elif fact.exclusive is not None and fact.exclusive != kind.is_exclusive:
            raise ValidationFailed(
                f"the relation {kind.name} is declared "
                f"{'' if kind.is_exclusive else 'not '}exclusive",
                field=f"facts.{index}.exclusive",
            )
    await session.flush()
    return kinds


def _covers(row: Relationship, start: datetime, end: datetime | None) -> bool:
    if row.valid_from > start:
        return False
    return row.valid_to is None or (end is not None and row.valid_to >= end)


def _overlaps(row: Relationship, start: datetime, end: datetime | None) -> bool:
    return (end is None or row.valid_from < end) and (row.valid_to is None or row.valid_to > start)


def _touches(row: Relationship, start: datetime, end: datetime | None) -> bool:
    return (end is None or row.valid_from <= end) and (
        row.valid_to is None or row.valid_to >= start
    )


def _union(first: Sequence[uuid.UUID], second: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    return list(dict.fromkeys([*first, *second]))


@dataclass(frozen=True)
class FactRow:
    id: uuid.UUID
    subject_id: uuid.UUID
    subject: str
    relation: str
    object_id: uuid.UUID
    object: str
    fact: str | None
    confidence: float
    valid_from: datetime
    valid_to: datetime | None
    recorded_at: datetime
    expired_at: datetime | None
    source_episode_ids: list[uuid.UUID]


async def facts(
    session: AsyncSession,
    *,
    subject_id: uuid.UUID | None = None,
    object_id: uuid.UUID | None = None,
    relation: str | None = None,
    as_of: datetime | None = None,
    known_at: datetime | None = None,
    history: bool = False,
    limit: int = 100,
    among: Sequence[uuid.UUID] | None = None,
) -> list[FactRow]:
    """The facts that held at `as_of` (event time; now by default, every time with
    `history`) as we knew them at `known_at` (system time; now by default); with `among`,
    only those between two of these entities."""
    subject, target = aliased(Entity), aliased(Entity)
    query = (
        select(
            Relationship.id,
            Relationship.source_entity_id.label("subject_id"),
            subject.name.label("subject"),
            Relationship.relationship_type.label("relation"),
            Relationship.target_entity_id.label("object_id"),
            target.name.label("object"),
            Relationship.fact,
            Relationship.confidence,
            Relationship.valid_from,
            Relationship.valid_to,
            Relationship.recorded_at,
            Relationship.expired_at,
            Relationship.source_episode_ids,
        )
        .join(subject, subject.id == Relationship.source_entity_id)
        .join(target, target.id == Relationship.target_entity_id)
    )
    if known_at is None:
        query = query.where(Relationship.expired_at.is_(None))
    else:
        query = query.where(
            Relationship.recorded_at <= known_at,
            or_(Relationship.expired_at.is_(None), Relationship.expired_at > known_at),
        )
    if not history:
        moment = as_of if as_of is not None else func.now()
        query = query.where(
            Relationship.valid_from <= moment,
            or_(Relationship.valid_to.is_(None), Relationship.valid_to > moment),
        )
    if among is not None:
        ends = list(among)
        query = query.where(
            Relationship.source_entity_id.in_(ends), Relationship.target_entity_id.in_(ends)
        )
    for column, value in (
        (Relationship.source_entity_id, subject_id),
        (Relationship.target_entity_id, object_id),
        (Relationship.relationship_type, relation),
    ):
        if value is not None:
            query = query.where(column == value)
    found = await session.execute(
        query.order_by(Relationship.valid_from, Relationship.id).limit(limit)
    )
    return [FactRow(**row) for row in found.mappings()]


async def record(
    session: AsyncSession,
    principal: Principal,
    embedders: Embedders,
    inputs: Sequence[FactInput],
    scope: Scope = NO_SCOPE,
    thresholds: Thresholds = DEFAULTS,
) -> list[Stored]:
    """The deterministic path: `inputs` stored as they are (no model involved), audited."""
    principal.require("memory:write")
    if not inputs:
        raise ValidationFailed("send at least one fact", field="facts")
    embedder = await tenant_embedder(session, embedders, principal.tenant_id, hold=True)
    stored = await assert_facts(session, embedder, principal.tenant_id, inputs, scope, thresholds)
    await audit(
        session,
        principal,
        "create",
        "fact",
        data={
            "count": len(stored),
            "closed": sum(s.closed for s in stored),
            "entities_created": sum(s.subject.created + s.object.created for s in stored),
        },
    )
    return stored


@dataclass(frozen=True)
class StoredFact(FactRow):
    closed: int
    """Facts this one cut short."""
    subject_match: str
    """How the subject was found: exact, alias, similar or new."""
    object_match: str


def shown(stored: Stored) -> StoredFact:
    """A stored fact as the API shows it."""
    row = stored.relationship
    return StoredFact(
        id=row.id,
        subject_id=row.source_entity_id,
        subject=stored.subject.entity.name,
        relation=row.relationship_type,
        object_id=row.target_entity_id,
        object=stored.object.entity.name,
        fact=row.fact,
        confidence=row.confidence,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        recorded_at=row.recorded_at,
        expired_at=row.expired_at,
        source_episode_ids=list(row.source_episode_ids),
        closed=stored.closed,
        subject_match=stored.subject.matched_by,
        object_match=stored.object.matched_by,
    )
