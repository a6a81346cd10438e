"""Sessions: created with their first event, changed only through events, erased whole.

The envelope (title, status, variables, metadata, scenario state, `last_seq`) is a view of
the log: creating a session writes `session.created`, changing it appends
`session.updated`. Deleting a session erases it: its events, messages, turn records and
attachments (with their stored bytes) go, and an audit event stays."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from personae.audit.service import record
from personae.identity.principal import Principal
from personae.personas.models import Agent, Persona
from personae.profiles.models import CustomerProfile
from personae.resources import Resource
from personae.sessions import log
from personae.sessions.models import Attachment, Session, SessionEvent
from personae.storage.models import StorageObject

ENVELOPE_FIELDS = ("title", "status", "variables", "metadata")
"""Set through events; the other fields of a session are fixed at creation."""

CHANNEL_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")


class _Sessions(Resource[Session]):
    async def create(
        self,
        session: AsyncSession,
        principal: Principal,
        values: Mapping[str, Any],
        where: Mapping[str, Any] | None = None,
    ) -> Session:
        fixed = {k: v for k, v in values.items() if k not in ENVELOPE_FIELDS}
        row = await super().create(session, principal, fixed, where)
        first = {k: v for k, v in values.items() if k in ENVELOPE_FIELDS and v is not None}
        await log.append(
            session,
            principal,
            row.id,
            [log.NewEvent("session.created", first)],
            system=True,
        )
        await session.refresh(row)
        return row

    async def update(
        self,
        session: AsyncSession,
        principal: Principal,
        row_id: uuid.UUID,
        changes: Mapping[str, Any],
        where: Mapping[str, Any] | None = None,
    ) -> Session:
        """Append `session.updated` (audited as the append)."""
        row = await self.get(session, principal, row_id, where, action="update")
        if changes:
            await log.append(
                session, principal, row_id, [log.NewEvent("session.updated", dict(changes))]
            )
            await session.refresh(row)
        return row

    async def delete(
        self,
        session: AsyncSession,
        principal: Principal,
        row_id: uuid.UUID,
        where: Mapping[str, Any] | None = None,
    ) -> None:
        """Erase the session and everything derived from it or attached to it."""
        row = await self.get(session, principal, row_id, where, action="delete")
        events = (
            await session.execute(select(func.count()).where(SessionEvent.session_id == row_id))
        ).scalar_one()
        stored = list(
            (
                await session.execute(
                    select(Attachment.storage_object_id).where(
                        Attachment.session_id == row_id, Attachment.storage_object_id.is_not(None)
                    )
                )
            ).scalars()
        )
        await session.delete(row)  # events, messages, turns, attachments cascade
        await session.flush()
        if stored:
            await session.execute(delete(StorageObject).where(StorageObject.id.in_(stored)))
        await record(
            session,
            principal,
            "delete",
            "session",
            row_id,
            data={"events": events, "attachments": len(stored)},
        )


SESSIONS = _Sessions(
    Session,
    "session",
    "sessions",
    references={
        "persona_id": Persona,
        "agent_id": Agent,
        "customer_profile_id": CustomerProfile,
    },
)


async def find_or_create(
    session: AsyncSession, principal: Principal, values: Mapping[str, Any]
) -> tuple[Session, bool]:
    """The newest open session of `(channel, user_channel_id)`, or a new one: (row, created).

    Concurrent calls for one channel identity wait for each other, so only one creates."""
    principal.require("sessions:read")
    principal.require("sessions:create")
    channel, user = values["channel"], values["user_channel_id"]
    await session.execute(CHANNEL_LOCK, {"key": f"{principal.tenant_id}:{channel}:{user}"})
    found = (
        await session.execute(
            select(Session)
            .where(
                Session.channel == channel,
                Session.user_channel_id == user,
                Session.deleted_at.is_(None),
                Session.status.in_(("ACTIVE", "IDLE")),
            )
            .order_by(Session.last_activity_at.desc(), Session.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if found is not None:
        return found, False
    return await SESSIONS.create(session, principal, values), True
