"""Sessions: created with their first event, changed only through events, erased whole.

The envelope (title, status, variables, metadata, scenario state, `last_seq`) is a view of
the log: creating a session writes `session.created`, changing it appends
`session.updated`. Deleting a session erases it: its events, messages, turn records and
attachments (with their stored bytes) go, and an audit event stays."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from personae.db import locks
from personae.db.after_commit import after_commit
from personae.kernel.audit.service import record
from personae.kernel.principal import Principal
from personae.kernel.resources import Resource
from personae.personas.models import Agent, Persona
from personae.profiles.models import CustomerProfile
from personae.sessions import log
from personae.sessions.feed import CHANNEL as FEED_CHANNEL
from personae.sessions.hot import OPEN_STATUSES, Snapshot, hot_sessions, index_key, snapshot
from personae.sessions.models import Attachment, Session, SessionEvent
from personae.storage.models import StorageObject

ENVELOPE_FIELDS = ("title", "status", "variables", "metadata")
"""Set through events; the other fields of a session are fixed at creation."""

ERASED_NOTICE = text(f"SELECT pg_notify('{FEED_CHANNEL}', :payload)")
REMEMBERED = text("SELECT count(*) FROM episodes WHERE session_id = :session")
"""The session's memories, erased with it (the facts they alone support follow them out:
migration 0014)."""


class _Sessions(Resource[Session]):
    async def read(
        self,
        session: AsyncSession,
        principal: Principal,
        row_id: uuid.UUID,
        where: Mapping[str, Any] | None = None,
    ) -> Any:
        """From the hot cache when it holds the session fresh; else read through it."""
        hot = hot_sessions(session)
        if hot is None or where:
            return await self.get(session, principal, row_id, where)
        principal.require("sessions:read")
        cached = await hot.read(row_id, principal.tenant_id)
        if cached is not None:
            return cached
        state = snapshot(await self.get(session, principal, row_id))
        await hot.keep(state)
        return state

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
        *,
        noted: Mapping[str, Any] | None = None,
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
        remembered = (await session.execute(REMEMBERED, {"session": row_id})).scalar_one()
        state = snapshot(row)
        await session.delete(row)  # events, messages, turns, attachments, episodes cascade
        await session.flush()
        await session.execute(ERASED_NOTICE, {"payload": f"{row_id}:erased"})
        hot = hot_sessions(session)
        if hot is not None:
            after_commit(session, lambda: hot.erase(state))
        if stored:
            await session.execute(delete(StorageObject).where(StorageObject.id.in_(stored)))
        await record(
            session,
            principal,
            "delete",
            "session",
            row_id,
            data={
                "events": events,
                "attachments": len(stored),
                "episodes": remembered,
                **(noted or {}),
            },
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
) -> tuple[Snapshot, bool]:
    """The newest open session of `(channel, user_channel_id)`, or a new one: (session,
    created). The hot cache's channel index answers when it can.

    Concurrent calls for one channel identity wait for each other, so only one creates."""
    principal.require("sessions:read")
    principal.require("sessions:create")
    channel, user = values["channel"], values["user_channel_id"]
    hot = hot_sessions(session)
    if hot is not None:
        index = index_key(principal.tenant_id, "channel", channel, user)
        found = await hot.open_sessions(index, lambda: _open_ids(session, channel, user))
        if found:
            return max(found, key=lambda s: (s["last_activity_at"], s["id"])), False
    await locks.hold(session, f"{principal.tenant_id}:{channel}:{user}")
    row = (
        await session.execute(
            _open(channel, user)
            .order_by(Session.last_activity_at.desc(), Session.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if row is None:
        return snapshot(await SESSIONS.create(session, principal, values)), True
    state = snapshot(row)
    if hot is not None:
        after_commit(session, lambda: hot.keep(state))
    return state, False


def _open(channel: str, user: str) -> Select[Session]:
    return select(Session).where(
        Session.channel == channel,
        Session.user_channel_id == user,
        Session.deleted_at.is_(None),
        Session.status.in_(OPEN_STATUSES),
    )


async def _open_ids(session: AsyncSession, channel: str, user: str) -> list[uuid.UUID]:
    rows = await session.execute(_open(channel, user).with_only_columns(Session.id))
    return list(rows.scalars())
