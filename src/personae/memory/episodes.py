"""Episodes as the API manages them: notes, facts, events and summaries written directly
(turns come from sessions, see `writing`). A new episode is stored at once and embedded in
the background, like every other."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from personae.errors import ValidationFailed
from personae.kernel.principal import Principal
from personae.kernel.resources import Resource
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
