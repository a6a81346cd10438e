"""Writing audit events: in the caller's transaction, so an event exists iff the change does."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from personae.kernel.audit.models import AuditEvent
from personae.kernel.audit.schemas import AuditFilters
from personae.kernel.principal import Principal


def audit_values(
    principal: Principal,
    action: str,
    resource_type: str,
    resource_id: uuid.UUID | str | None = None,
    *,
    description: str = "",
    data: dict[str, Any] | None = None,
    category: str = "action",
    result: str = "success",
) -> dict[str, Any]:
    """The columns of one audit event: `<resource_type>.<action>`, by `principal`.

    `data` must never carry secret values: callers pass names and ids, not contents."""
    return {
        "tenant_id": principal.tenant_id,
        "event_type": f"{resource_type}.{action}",
        "event_category": category,
        "action": action,
        "actor_type": principal.kind,
        "actor_id": principal.actor_id,
        "user_id": principal.user_id,
        "resource_type": resource_type,
        "resource_id": None if resource_id is None else str(resource_id),
        "description": description,
        "result": result,
        "event_data": data or {},
        "ip_address": principal.ip_address,
        "trace_id": principal.trace_id,
    }


async def record(
    session: AsyncSession,
    principal: Principal,
    action: str,
    resource_type: str,
    resource_id: uuid.UUID | str | None = None,
    *,
    description: str = "",
    data: dict[str, Any] | None = None,
    category: str = "action",
    result: str = "success",
) -> None:
    """Write one audit event in the caller's transaction (see `audit_values`)."""
    values = audit_values(
        principal,
        action,
        resource_type,
        resource_id,
        description=description,
        data=data,
        category=category,
        result=result,
    )
    await session.execute(insert(AuditEvent).values(**values))


async def list_events(
    session: AsyncSession, principal: Principal, filters: AuditFilters
) -> tuple[list[AuditEvent], str | None]:
    """Newest first; the cursor is the id to continue below (stable under new writes)."""
    principal.require("audit:read")
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(filters.limit + 1)
    conditions = {
        AuditEvent.event_type: filters.event_type,
        AuditEvent.resource_type: filters.resource_type,
        AuditEvent.resource_id: filters.resource_id,
        AuditEvent.actor_id: filters.actor_id,
    }
    for column, value in conditions.items():
        if value is not None:
            query = query.where(column == value)
    if filters.since is not None:
        query = query.where(AuditEvent.created_at >= filters.since)
    if filters.until is not None:
        query = query.where(AuditEvent.created_at < filters.until)
    if filters.cursor is not None:
        query = query.where(AuditEvent.id < int(filters.cursor))
    rows = list((await session.execute(query)).scalars())
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    return rows, (str(rows[-1].id) if more and rows else None)
