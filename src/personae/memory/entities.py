"""Entities and their types as the API manages them. Making or renaming an entity looks
for it in the tenant's documents (a background job; see `knowledge.mentions`)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from personae.jobs import Job, defer_in
from personae.kernel.principal import Principal
from personae.kernel.resources import Resource
from personae.memory.models import Entity, EntityType
from personae.personas.models import Persona

MEMORY = {"create": "write", "update": "write"}
"""Entities need `memory:write` to make and change, `memory:delete` to delete."""
NAMES = ("name", "canonical_name", "aliases")
FIND = Job("find_entity_mentions", queue="ingest")
"""The job that looks for a made or renamed entity in the documents (knowledge runs it)."""


class _Entities(Resource[Entity]):
    async def create(
        self,
        session: AsyncSession,
        principal: Principal,
        values: Mapping[str, Any],
        where: Mapping[str, Any] | None = None,
    ) -> Entity:
        row = await super().create(session, principal, values, where)
        await _find_mentions(session, row)
        return row

    async def update(
        self,
        session: AsyncSession,
        principal: Principal,
        row_id: uuid.UUID,
        changes: Mapping[str, Any],
        where: Mapping[str, Any] | None = None,
    ) -> Entity:
        row = await super().update(session, principal, row_id, changes, where)
        if changes.keys() & {*NAMES, "persona_id"}:
            await _find_mentions(session, row)
        return row


async def _find_mentions(session: AsyncSession, row: Entity) -> None:
    lock = f"mentions:{row.id}"
    await defer_in(session, FIND, lock=lock, tenant_id=row.tenant_id, entity_id=row.id)


ENTITY_TYPES = Resource(EntityType, "entity_type", "memory", unique=("name",), actions=MEMORY)
ENTITIES = _Entities(
    Entity,
    "entity",
    "memory",
    actions=MEMORY,
    references={"entity_type_id": EntityType, "persona_id": Persona},
)
