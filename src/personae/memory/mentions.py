"""Entity mentions in episodes: the entities a fact or an extraction names are linked to
the episodes that support it and name them (by name, canonical name or alias, as whole
words), once per place they are named. Erasing an episode erases its mentions (a foreign
key), so nothing is left to point at erased words."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from personae.memory.models import Entity, EntityMention, Episode
from personae.retrieval.mentions import Found, Gazetteer, Named


async def mention(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    episode_ids: Collection[uuid.UUID],
    entity_ids: Collection[uuid.UUID],
) -> int:
    """Link the entities to the episodes that name them (links there already are kept);
    returns how many links were added."""
    if not episode_ids or not entity_ids:
        return 0
    entities = await session.execute(
        select(
            Entity.id, Entity.persona_id, Entity.name, Entity.canonical_name, Entity.aliases
        ).where(Entity.id.in_(entity_ids))
    )
    names = Gazetteer(
        Named(row.id, row.persona_id, (row.name, row.canonical_name or "", *row.aliases))
        for row in entities
    )
    episodes = await session.execute(
        select(Episode.id, Episode.content, Episode.persona_id).where(Episode.id.in_(episode_ids))
    )
    found: dict[tuple[uuid.UUID, uuid.UUID | None, int | None], Found] = {
        (hit.entity_id, row.id, hit.start): hit
        for row in episodes
        for hit in names.find(row.content, row.persona_id)
    }
    if not found:
        return 0
    place = tuple_(EntityMention.entity_id, EntityMention.episode_id, EntityMention.start_offset)
    known = await session.execute(
        select(EntityMention.entity_id, EntityMention.episode_id, EntityMention.start_offset).where(
            place.in_(list(found))
        )
    )
    for entity_id, episode_id, start in known:
        found.pop((entity_id, episode_id, start), None)
    if found:
        await session.execute(
            insert(EntityMention).values(
                [
                    {
                        "tenant_id": tenant_id,
                        "entity_id": entity_id,
                        "episode_id": episode_id,
                        "mention_text": hit.text,
                        "start_offset": hit.start,
                        "end_offset": hit.end,
                    }
                    for (entity_id, episode_id, _), hit in found.items()
                ]
            )
        )
    return len(found)
