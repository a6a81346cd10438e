"""Files attached to a session: stored with their SHA-256 and the type their bytes show,
scanned before anyone can fetch them, and quarantined when a scanner finds something or
fails. A quarantined file is served only to callers holding `attachments:read_quarantined`
(owners and admins), and each such download is audited."""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from personae.errors import Forbidden, ValidationFailed
from personae.kernel.audit.service import record
from personae.kernel.principal import Principal
from personae.kernel.resources import Resource
from personae.sessions import log
from personae.sessions.models import Attachment
from personae.sessions.service import SESSIONS
from personae.storage import objects
from personae.storage.content import detect_mime
from personae.storage.models import StorageObject
from personae.storage.scanning import Scanner, scan

BUCKET = "attachments"
READ_QUARANTINED = "attachments:read_quarantined"
MAX_FILENAME = 255


def clean_filename(filename: str | None) -> str:
    """The last path component, without control characters (422 if nothing is left)."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    if not name or name in {".", ".."} or len(name) > MAX_FILENAME:
        raise ValidationFailed(f"a file name of 1 to {MAX_FILENAME} characters", field="filename")
    return name


class _Attachments(Resource[Attachment]):
    async def delete(
        self,
        session: AsyncSession,
        principal: Principal,
        row_id: uuid.UUID,
        where: Mapping[str, Any] | None = None,
        *,
        noted: Mapping[str, Any] | None = None,
    ) -> None:
        """Remove the attachment and its stored bytes."""
        row = await self.get(session, principal, row_id, where, action="delete")
        stored = row.storage_object_id
        await super().delete(session, principal, row_id, where, noted=noted)
        if stored is not None:
            await session.execute(delete(StorageObject).where(StorageObject.id == stored))


ATTACHMENTS = _Attachments(
    Attachment, "attachment", "sessions", actions={"create": "update", "delete": "update"}
)


async def attach(
    session: AsyncSession,
    principal: Principal,
    session_id: uuid.UUID,
    filename: str,
    content: bytes,
    scanners: Sequence[Scanner],
) -> Attachment:
    """Scan, store and record one file of the session; its log gets `attachment.added`."""
    principal.require("sessions:update")
    name = clean_filename(filename)
    if not content:
        raise ValidationFailed("the file is empty", field="body")
    mime_type = detect_mime(content)[:100]
    verdict = await scan(scanners, content, name, mime_type)  # before any database work
    await SESSIONS.get(session, principal, session_id)
    stored = await objects.put(
        session,
        principal.tenant_id,
        BUCKET,
        f"sessions/{session_id}/{uuid.uuid4()}",
        content,
        mime_type=mime_type,
        owner=principal.user_id,
    )
    digest = stored.sha256
    row = Attachment(
        tenant_id=principal.tenant_id,
        session_id=session_id,
        storage_object_id=stored.id,
        filename=name,
        mime_type=mime_type,
        size=len(content),
        sha256=digest,
        status="clean" if verdict.clean else "quarantined",
        quarantine_reason=verdict.reason,
    )
    session.add(row)
    await session.flush()
    facts = {
        "attachment_id": str(row.id),
        "filename": name,
        "mime_type": mime_type,
        "size": len(content),
        "sha256": digest,
        "status": row.status,
        "quarantine_reason": verdict.reason,
    }
    await log.append(
        session, principal, session_id, [log.NewEvent("attachment.added", facts)], system=True
    )
    await record(session, principal, "create", "attachment", row.id, data=facts)
    return row


async def download(
    session: AsyncSession, principal: Principal, session_id: uuid.UUID, attachment_id: uuid.UUID
) -> tuple[Attachment, bytes]:
    """The attachment and its bytes; a quarantined one only for those allowed (audited)."""
    row = await ATTACHMENTS.get(session, principal, attachment_id, {"session_id": session_id})
    if row.status != "clean":
        if not principal.can(READ_QUARANTINED):
            raise Forbidden(
                f"this file is quarantined ({row.quarantine_reason}); an admin may fetch it",
                field="attachment_id",
            )
        await record(
            session,
            principal,
            "read_quarantined",
            "attachment",
            row.id,
            data={"reason": row.quarantine_reason},
        )
    if row.storage_object_id is None:
        return row, b""
    return row, await objects.content(session, row.storage_object_id)
