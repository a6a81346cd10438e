"""Erasing what memory holds about a persona or a customer, in the caller's transaction.

Their episodes go (and with them, through the trigger of `db/sql/forget_support.sql`, the
facts only those episodes supported, their mentions, and the learned entities nothing
names any more), and so do the entities kept in their scope with every fact about them.
The counts say what was erased, never what it said: they are what the audit records."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from personae.memory.models import Entity, Episode, Relationship


async def erase(
    session: AsyncSession,
    *,
    persona_id: uuid.UUID | None = None,
    customer_profile_id: uuid.UUID | None = None,
) -> dict[str, int]:
    """Erase the memories of the persona or the customer; how many of each were erased."""
    assert (persona_id is None) != (customer_profile_id is None), "one scope"
    episodes_in: ColumnElement[bool] = (
        Episode.persona_id == persona_id
        if persona_id is not None
        else Episode.customer_profile_id == customer_profile_id
    )
    entities_in: ColumnElement[bool] = (
        Entity.persona_id == persona_id
        if persona_id is not None
        else Entity.customer_profile_id == customer_profile_id
    )
    facts_before = await _count(session, Relationship)
    entities_before = await _count(session, Entity)
    episodes = await session.execute(delete(Episode).where(episodes_in).returning(Episode.id))
    erased_episodes = len(episodes.all())
    await session.execute(delete(Entity).where(entities_in))  # their facts and mentions cascade
    return {
        "episodes": erased_episodes,
        "facts": facts_before - await _count(session, Relationship),
        "entities": entities_before - await _count(session, Entity),
    }


async def _count(session: AsyncSession, model: type[Entity] | type[Relationship]) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)
