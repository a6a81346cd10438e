"""Files attached to sessions: streamed uploads, listing, and downloads."""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from personae.api.deps import RequestContext, authorized
from personae.api.resource_routes import Parent, mount
from personae.api.services import Shared
from personae.api.uploads import RAW_BODY, read_file
from personae.sessions.attachments import ATTACHMENTS, attach, download
from personae.sessions.schemas import AttachmentOut
from personae.sessions.service import SESSIONS

router = APIRouter(prefix="/v1", tags=["attachments"])
UPLOADS = r"^/v1/sessions/[^/]+/attachments$"
"""Request paths whose bodies are files (their own size limit)."""


@router.post(
    "/sessions/{session_id}/attachments",
    status_code=201,
    response_model=AttachmentOut,
    summary="Upload a file (the request body, any type) to a session",
    openapi_extra=RAW_BODY,
)
async def upload(
    shared: Shared,
    session_id: uuid.UUID,
    request: Request,
    context: Annotated[RequestContext, authorized("sessions:update")],
    filename: Annotated[str, Query(min_length=1, max_length=1000)],
) -> BaseModel:
    """The body is the file, streamed (413 past the size limit). Its type is detected from
    its bytes, it is scanned, and a file a scanner flags (or could not scan) is kept in
    quarantine with the reason."""
    await SESSIONS.get(context.session, context.principal, session_id)
    await context.session.rollback()  # hold no connection while the file arrives
    content = await read_file(request, shared.settings.max_attachment_bytes)
    row = await attach(
        context.session,
        context.principal,
        session_id,
        filename,
        content,
        shared.scanners,
    )
    shown = AttachmentOut.model_validate(row)
    await context.commit()
    return shown


mount(
    router,
    ATTACHMENTS,
    path="/attachments",
    id_param="attachment_id",
    out=AttachmentOut,
    parent=Parent(SESSIONS, "/sessions", "session_id"),
    tag="attachments",
)


@router.get(
    "/sessions/{session_id}/attachments/{attachment_id}/content",
    summary="Download a file (quarantined files: admins only)",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
async def fetch(
    session_id: uuid.UUID,
    attachment_id: uuid.UUID,
    context: Annotated[RequestContext, authorized("sessions:read")],
) -> Response:
    row, content = await download(context.session, context.principal, session_id, attachment_id)
    await context.commit()  # a quarantined file's download is audited
    return Response(
        content,
        media_type=row.mime_type or "application/octet-stream",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(row.filename)}",
            "X-Content-Type-Options": "nosniff",
            "ETag": f'"{row.sha256}"',
            "Cache-Control": "private, no-store",
        },
    )
