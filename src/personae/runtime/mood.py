"""A persona's neuromodulators as the API shows and nudges them: the levels, and the
generation parameters they set now (`modulation`)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from personae.kernel.audit.service import record
from personae.kernel.principal import Principal
from personae.personas.modulation import Levels, nudged, parameters
from personae.personas.service import PERSONAS


def shown(levels: Levels) -> dict[str, Any]:
    return {"neuromodulators": levels.stored(), "parameters": parameters(levels).__dict__}


async def current(
    session: AsyncSession, principal: Principal, persona_id: uuid.UUID
) -> dict[str, Any]:
    persona = await PERSONAS.get(session, principal, persona_id)
    return shown(Levels.of(persona.neuromodulators))


async def nudge(
    session: AsyncSession,
    principal: Principal,
    persona_id: uuid.UUID,
    event: str | None,
    deltas: Mapping[str, float],
) -> dict[str, Any]:
    """Apply an event (`modulation.EVENTS`) or explicit deltas to the persona's levels."""
    persona = await PERSONAS.get(session, principal, persona_id, action="update")
    levels = nudged(Levels.of(persona.neuromodulators), event, deltas)
    persona.neuromodulators = levels.stored()
    await session.flush()
    await record(
        session,
        principal,
        "nudge",
        "persona",
        persona.id,
        data={"event": event, "deltas": dict(deltas)},
    )
    return shown(levels)
