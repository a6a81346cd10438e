"""A session as JSON Lines: the session, every event in order, then its attachments'
metadata (not their bytes). Read in batches, each in a short transaction of its own."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from personae.db.tenancy import tenant_session
from personae.kernel.audit.service import record
from personae.kernel.principal import Principal
from personae.sessions import log
from personae.sessions.models import Attachment, Session
from personae.sessions.schemas import AttachmentOut, EventOut, SessionOut
from personae.sessions.service import SESSIONS

BATCH = 1000


async def begin(session: AsyncSession, principal: Principal, session_id: uuid.UUID) -> None:
    """Check the caller may read the session, and audit the export (commit before `lines`)."""
    await SESSIONS.get(session, principal, session_id)
    await record(session, principal, "export", "session", session_id)


def _line(kind: str, shape: type[BaseModel], row: object) -> str:
    body = shape.model_validate(row).model_dump_json()
    return f'{{"type":"{kind}","data":{body}}}\n'


async def lines(
    sessions: async_sessionmaker[AsyncSession], tenant_id: uuid.UUID, session_id: uuid.UUID
) -> AsyncIterator[str]:
    """`{"type": "session" | "event" | "attachment", "data": {…}}`, one per line."""
    async with tenant_session(sessions, tenant_id) as session:
        found = await session.get(Session, (tenant_id, session_id))
        if found is None:
            return
        yield _line("session", SessionOut, found)
    position = 0
    while True:
        async with tenant_session(sessions, tenant_id) as session:
            events = await log.events_after(session, session_id, position, BATCH)
        for event in events:
            yield _line("event", EventOut, event)
        if len(events) < BATCH:
            break
        position = events[-1].seq
    async with tenant_session(sessions, tenant_id) as session:
        attachments = await session.execute(
            select(Attachment)
            .where(Attachment.session_id == session_id)
            .order_by(Attachment.created_at, Attachment.id)
        )
        for attachment in attachments.scalars():
            yield _line("attachment", AttachmentOut, attachment)
