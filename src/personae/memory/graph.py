"""The knowledge graph around entities: what is reachable from them through facts, hop by
hop (a recursive CTE, both directions), as the facts held at `as_of` and as we knew them
at `known_at`.

`named_in` finds the entities a text names (their name, canonical name or an alias, as a
run of whole words, through the folded-name indexes of migration 0013), which is how a
search query's entities become the seeds of its graph proximity."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from personae.memory.bitemporal import AS_OF, HELD_AT, KNOWN
from personae.memory.facts import FactRow, facts
from personae.memory.models import Entity
from personae.memory.resolution import Scope

LONGEST_NAME = 4
"""Words in the longest name looked for in a text."""
MAX_REACHED = 200
"""Entities a traversal returns at most (nearest first)."""
WORDS = re.compile(r"[^\W_]+(?:[.-][^\W_]+)*")
"""Words, hyphens and dots kept within them (Jean-Luc), apostrophes not (Caroline's)."""

REACHABLE = """
WITH RECURSIVE seeds AS (
  SELECT e.id FROM entities AS e
  WHERE (e.id = ANY(CAST(:ids AS uuid[])) OR lower(e.name) = ANY(CAST(:grams AS text[]))
     OR lower(e.canonical_name) = ANY(CAST(:grams AS text[]))
     OR personae_folded(e.aliases) && CAST(:grams AS text[]))
    AND e.expired_at IS NULL AND {in_scope}
),
live AS (
  SELECT c.id, c.source_entity_id, c.target_entity_id FROM relationships AS c
  WHERE {known} AND {held}
),
walk(entity_id, distance, path) AS (
  SELECT id, 0, ARRAY[id] FROM seeds
  UNION ALL
  SELECT n.next_id, w.distance + 1, w.path || n.next_id
  FROM walk AS w
  CROSS JOIN LATERAL (
    SELECT l.target_entity_id AS next_id FROM live AS l WHERE l.source_entity_id = w.entity_id
    UNION
    SELECT l.source_entity_id FROM live AS l WHERE l.target_entity_id = w.entity_id
  ) AS n
  WHERE w.distance < :depth AND NOT n.next_id = ANY(w.path)
)
SELECT w.entity_id, min(w.distance) AS distance FROM walk AS w
JOIN entities AS e ON e.id = w.entity_id
WHERE e.expired_at IS NULL AND {in_scope}
GROUP BY w.entity_id ORDER BY min(w.distance), w.entity_id LIMIT :max_reached
""".format(
    in_scope="(e.customer_profile_id IS NULL "
    "OR e.customer_profile_id = CAST(:customer_profile_id AS uuid))",
    known=KNOWN,
    held=HELD_AT.format(at=AS_OF),
)
"""Entities of the tenant as a whole, or of the customer asked about: never another's."""
REACHED = f"\nreached AS MATERIALIZED ({REACHABLE})"
"""`REACHABLE` as a common table expression of another statement (`entity_id`, `distance`)."""


@dataclass(frozen=True)
class Reached:
    entity_id: uuid.UUID
    distance: int
    """Hops from the nearest seed (0: a seed)."""


def word_runs(text_: str, longest: int = LONGEST_NAME) -> list[str]:
    """Every run of up to `longest` consecutive words of `text_`, lower-cased."""
    words = [w.lower() for w in WORDS.findall(text_)]
    return sorted(
        {
            " ".join(words[i : i + n])
            for n in range(1, longest + 1)
            for i in range(len(words) - n + 1)
        }
    )


async def reachable(
    session: AsyncSession,
    *,
    entity_ids: Sequence[uuid.UUID] = (),
    named_in: str | None = None,
    depth: int = 1,
    scope: Scope | None = None,
    as_of: datetime | None = None,
    known_at: datetime | None = None,
) -> list[Reached]:
    """The entities within `depth` hops of the seeds (`entity_ids`, and the entities
    `named_in` names), with their distance, nearest first."""
    params = seeded(entity_ids=entity_ids, named_in=named_in, depth=depth, scope=scope)
    if params is None:
        return []
    found = await session.execute(text(REACHABLE), {**params, "as_of": as_of, "known_at": known_at})
    return [Reached(row.entity_id, row.distance) for row in found]


def seeded(
    *,
    entity_ids: Sequence[uuid.UUID] = (),
    named_in: str | None = None,
    depth: int = 1,
    scope: Scope | None = None,
) -> dict[str, Any] | None:
    """The parameters of `REACHABLE` (but `:as_of` and `:known_at`); None when there is no
    seed to walk from."""
    grams = word_runs(named_in) if named_in else []
    if not entity_ids and not grams:
        return None
    return {
        "ids": list(entity_ids),
        "grams": grams,
        "customer_profile_id": None if scope is None else scope.customer_profile_id,
        "depth": depth,
        "max_reached": MAX_REACHED,
    }


@dataclass(frozen=True)
class Node:
    id: uuid.UUID
    name: str
    entity_type: str
    distance: int


@dataclass(frozen=True)
class Neighbourhood:
    entities: list[Node]
    facts: list[FactRow]
    """The facts between them, valid at `as_of` as known at `known_at`."""


async def neighbourhood(
    session: AsyncSession,
    *,
    entity_ids: Sequence[uuid.UUID] = (),
    named_in: str | None = None,
    depth: int = 1,
    scope: Scope | None = None,
    as_of: datetime | None = None,
    known_at: datetime | None = None,
    max_facts: int = 1000,
) -> Neighbourhood:
    """The graph within `depth` hops of the seeds: its entities and the facts between them."""
    reached = await reachable(
        session,
        entity_ids=entity_ids,
        named_in=named_in,
        depth=depth,
        scope=scope,
        as_of=as_of,
        known_at=known_at,
    )
    distance = {r.entity_id: r.distance for r in reached}
    if not distance:
        return Neighbourhood([], [])
    rows = await session.execute(
        select(Entity.id, Entity.name, Entity.entity_type).where(Entity.id.in_(distance))
    )
    nodes = sorted(
        (Node(row.id, row.name, row.entity_type, distance[row.id]) for row in rows),
        key=lambda node: (node.distance, node.name),
    )
    between = await facts(
        session, among=list(distance), as_of=as_of, known_at=known_at, limit=max_facts
    )
    return Neighbourhood(nodes, between)
