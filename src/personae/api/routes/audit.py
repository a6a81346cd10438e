"""The audit trail, newest first, filtered, by cursor."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from personae.api.deps import RequestContext, authorized
from personae.kernel.audit import service
from personae.kernel.audit.schemas import AuditEventOut, AuditFilters, AuditPage

router = APIRouter(prefix="/v1/audit", tags=["audit"])


@router.get("", summary="Audit events of the tenant")
async def list_audit(
    filters: Annotated[AuditFilters, Query()],
    context: Annotated[RequestContext, authorized("audit:read")],
) -> AuditPage:
    rows, cursor = await service.list_events(context.session, context.principal, filters)
    return AuditPage(items=[AuditEventOut.model_validate(row) for row in rows], next_cursor=cursor)
