"""Erasure: deleting a persona or a customer takes what every area keeps about them, in
the caller's transaction, and the audit event counts what went (never what it said).

A persona takes its memories with it. A customer takes their sessions (each erased as a
session is, with its own audit event), their memories, the facts only those supported,
the entities kept in their scope, their channel identities and fields."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from personae.kernel.audit.service import record
from personae.kernel.principal import Principal
from personae.memory.erasure import erase
from personae.personas.service import PERSONAS
from personae.profiles.service import PROFILES
from personae.sessions.models import Session
from personae.sessions.service import SESSIONS


async def delete_persona(
    session: AsyncSession,
    principal: Principal,
    persona_id: uuid.UUID,
    where: Mapping[str, Any] | None = None,
) -> None:
    """Delete the persona and erase its memories (its audit event counts them)."""
    await PERSONAS.get(session, principal, persona_id, where, action="delete")
    erased = await erase(session, persona_id=persona_id)
    await PERSONAS.delete(session, principal, persona_id, where, noted={"erased": erased})


async def delete_customer(
    session: AsyncSession,
    principal: Principal,
    profile_id: uuid.UUID,
    where: Mapping[str, Any] | None = None,
) -> None:
    """Erase the customer and everything kept about them."""
    row = await PROFILES.get(session, principal, profile_id, where, action="delete")
    theirs = await session.execute(
        select(Session.id).where(Session.customer_profile_id == profile_id)
    )
    conversations = list(theirs.scalars())
    for conversation in conversations:
        await SESSIONS.delete(session, principal, conversation)
    erased = await erase(session, customer_profile_id=profile_id)
    await session.delete(row)  # identities, fields and assets cascade
    await session.flush()
    await record(
        session,
        principal,
        "delete",
        PROFILES.kind,
        profile_id,
        data={"sessions": len(conversations), **erased},
    )
