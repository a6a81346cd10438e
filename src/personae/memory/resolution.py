"""Finding the entity a name means, or making it: the same person under another spelling or
an alias is one entity, two people with similar names are two.

In order: the exact name (or canonical name), an alias, then the nearest names by
embedding (`entity_similarity` and above, same type) confirmed by spelling
(`entity_spelling` and above: a typo, not another name). A match learns the new spelling
as an alias. Entities are matched within one scope (the customer profile, or none)."""

from __future__ import annotations

import difflib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import ARRAY, Boolean, ColumnElement, Select, Text, cast, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from personae.db import locks
from personae.memory.models import Entity
from personae.providers.embeddings import Embedder, label
from personae.settings import Settings

UNTYPED = "thing"
NEAREST = 5
"""Names compared by spelling after the embedding search."""


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


async def resolve(
    session: AsyncSession,
    embedder: Embedder,
    tenant_id: uuid.UUID,
    ref: EntityRef,
    scope: Scope = NO_SCOPE,
    thresholds: Thresholds = DEFAULTS,
) -> Resolved:
    """The entity `ref` names in `scope`, made if none matches (under a lock on the name,
    so two writers never make it twice)."""
    name = " ".join(ref.name.split())
    await locks.hold(session, f"entity:{tenant_id}:{_folded(name)}")
    names = [_folded(n) for n in (name, *ref.aliases)]
    candidates = (
        true() if ref.entity_type is None else Entity.entity_type == ref.entity_type,
        Entity.expired_at.is_(None),
        Entity.customer_profile_id.is_not_distinct_from(scope.customer_profile_id),
    )
    base = select(Entity).where(*candidates)
    exact = await _first(
        session,
        base.where(
            or_(func.lower(Entity.name) == names[0], func.lower(Entity.canonical_name) == names[0])
        ),
    )
    if exact is not None:
        return Resolved(exact, False, "exact", await _learn(session, exact, ref.aliases))
    aliased = await _first(
        session,
        base.where(
            or_(
                func.lower(Entity.name).in_(names),
                _any_alias_in(names),
            )
        ),
    )
    if aliased is not None:
        return Resolved(
            aliased, False, "alias", await _learn(session, aliased, [name, *ref.aliases])
        )
    vector = (await embedder.embed([name]))[0]
    distance = Entity.name_embedding.cosine_distance(vector)
    nearest = await session.execute(  # no distance filter: the index would scan on for one
        select(Entity, distance)
        .where(*candidates, Entity.embedding_model == label(embedder))
        .order_by(distance)
        .limit(NEAREST)
    )
    for candidate, apart in nearest.all():
        if apart <= 1 - thresholds.similarity and (
            max(spelling(name, n) for n in (candidate.name, *candidate.aliases))
            >= thresholds.spelling
        ):
            learned = await _learn(session, candidate, [name, *ref.aliases])
            return Resolved(candidate, False, "similar", learned)
    entity = Entity(
        tenant_id=tenant_id,
        name=name,
        entity_type=ref.entity_type or UNTYPED,
        aliases=_distinct([a for a in ref.aliases if _folded(a) != names[0]]),
        name_embedding=list(vector),
        embedding_model=label(embedder),
        persona_id=scope.persona_id,
        agent_id=scope.agent_id,
        customer_profile_id=scope.customer_profile_id,
        learned=True,
    )
    session.add(entity)
    await session.flush()
    return Resolved(entity, True, "new")


def _folded(name: str) -> str:
    return " ".join(name.lower().split())


def _distinct(names: Sequence[str]) -> list[str]:
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(_folded(name), " ".join(name.split()))
    return list(seen.values())


def _any_alias_in(names: Sequence[str]) -> ColumnElement[bool]:
    """An alias among `names` (folded), through the index on folded aliases (migration 0013)."""
    folded = func.personae_folded(Entity.aliases, type_=ARRAY(Text))
    return folded.op("&&", return_type=Boolean)(cast(list(names), ARRAY(Text)))


async def _first(session: AsyncSession, query: Select[Entity]) -> Entity | None:
    found = await session.execute(query.order_by(Entity.created_at).limit(1))
    return found.scalars().first()


async def _learn(session: AsyncSession, entity: Entity, spellings: Sequence[str]) -> list[str]:
    """Add the spellings the entity did not know as aliases; returns them."""
    known = {_folded(n) for n in (entity.name, entity.canonical_name or "", *entity.aliases)}
    new = [s for s in _distinct(spellings) if _folded(s) not in known]
    if new:
        entity.aliases = [*entity.aliases, *new]
        await session.flush()
    return new
