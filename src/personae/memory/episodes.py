"""Episodes as the API manages them: notes, facts, events and summaries written directly
(turns come from sessions, see `writing`), one by one or thousands at once (`write_many`:
an imported history). A new episode is stored at once and embedded in the background, like
every other."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from personae.db.types import uuid7
from personae.errors import ValidationFailed
from personae.kernel.audit.service import record
from personae.kernel.principal import Principal
from personae.kernel.resources import Resource, live_ids
from personae.memory.entities import MEMORY
from personae.memory.models import Episode
from personae.memory.writing import embed_later
from personae.personas.models import Agent, Persona
from personae.profiles.models import CustomerProfile
from personae.sessions.models import Session


class _Episodes(Resource[Episode]):
    async def check(
        self, session: AsyncSession, principal: Principal, values: Mapping[str, Any]
    ) -> None:
        start, end = values.get("valid_from"), values.get("valid_to")
        if start is not None and end is not None and end <= start:
            raise ValidationFailed("must be after valid_from", field="valid_to")

    async def create(
        self,
        session: AsyncSession,
        principal: Principal,
        values: Mapping[str, Any],
        where: Mapping[str, Any] | None = None,
    ) -> Episode:
        values = {"episode_type": "NOTE", **values}
        if values.get("valid_from") is None and (
            values.get("occurred_at") is not None or values.get("valid_to") is not None
        ):  # it held from when it happened
            values["valid_from"] = values.get("occurred_at") or datetime.now(UTC)
        row = await super().create(session, principal, values, where)
        await embed_later(session, principal.tenant_id)
        return row


EPISODES = _Episodes(
    Episode,
    "episode",
    "memory",
    actions=MEMORY,
    references={
        "persona_id": Persona,
        "agent_id": Agent,
        "customer_profile_id": CustomerProfile,
        "session_id": Session,
    },
)


COLUMNS = {
    "id": "uuid",
    "episode_type": "text",
    "content": "text",
    "importance": "float8",
    "occurred_at": "timestamptz",
    "valid_from": "timestamptz",
    "valid_to": "timestamptz",
    "persona_id": "uuid",
    "agent_id": "uuid",
    "customer_profile_id": "uuid",
    "session_id": "uuid",
    "group_id": "uuid",
    "metadata": "jsonb",
}
WRITE_MANY = text(
    f"INSERT INTO episodes (tenant_id, {', '.join(COLUMNS)}) "
    f"SELECT CAST(:tenant AS uuid), {', '.join(COLUMNS)} FROM unnest("
    + ", ".join(f"CAST(:{name} AS {kind}[])" for name, kind in COLUMNS.items())
    + f") AS given ({', '.join(COLUMNS)})"
)
"""Every episode of a batch in one statement: a column of values per array."""


async def write_many(
    session: AsyncSession, principal: Principal, items: Sequence[Mapping[str, Any]]
) -> list[uuid.UUID]:
    """Store the episodes in one statement (embedded later, as every other); one audit
    event counts them. 422 naming the episode at fault (`episodes.<i>.<field>`)."""
    await EPISODES.authorize(session, principal, "create", None, {})
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        row = {"episode_type": "NOTE", "importance": 0.5, **item}
        occurred = row.get("occurred_at") or now
        start = row.get("valid_from") or occurred
        if row.get("valid_to") is not None and row["valid_to"] <= start:
            raise ValidationFailed("must be after valid_from", field=f"episodes.{index}.valid_to")
        rows.append(row | {"id": uuid7(), "occurred_at": occurred, "valid_from": start})
    for name, model in EPISODES.references.items():
        await _refer(session, rows, name, model)
    columns: dict[str, Any] = {name: [row.get(name) for row in rows] for name in COLUMNS}
    columns["metadata"] = [json.dumps(row.get("metadata") or {}) for row in rows]
    await session.execute(WRITE_MANY, {"tenant": principal.tenant_id, **columns})
    await record(session, principal, "create", "episode", data={"batch": len(rows)})
    await embed_later(session, principal.tenant_id)
    return [row["id"] for row in rows]


async def _refer(
    session: AsyncSession, rows: list[dict[str, Any]], name: str, model: type[Any]
) -> None:
    """422 naming the first episode whose `name` is no live row of `model` (one query)."""
    wanted = {row[name] for row in rows if row.get(name) is not None}
    found = await live_ids(session, model, wanted) if wanted else set()
    for index, row in enumerate(rows):
        if row.get(name) is not None and row[name] not in found:
            label = name.removesuffix("_id")
            raise ValidationFailed(f"no such {label}", field=f"episodes.{index}.{name}")
