"""Team access to documents: a document shared with teams (`document_teams`) is for the
members of those teams only (`read` or `write`), and for the tenant's administrators
(`members:manage`). A document shared with no team is for everyone with `documents:*`."""

from __future__ import annotations

import uuid
from typing import Literal

from sqlalchemy import ColumnElement, exists, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from personae.errors import Forbidden
from personae.identity.models import TeamMember
from personae.kernel.principal import Principal
from personae.knowledge.models import Document, DocumentTeam

ADMINISTRATOR = "members:manage"


def unrestricted(principal: Principal) -> bool:
    return principal.kind == "system" or principal.can(ADMINISTRATOR)


def readable(
    principal: Principal, document_id: InstrumentedAttribute[uuid.UUID]
) -> ColumnElement[bool]:
    """The documents (by id) the caller may read."""
    if unrestricted(principal):
        return true()
    shared = exists().where(DocumentTeam.document_id == document_id)
    if principal.user_id is None:
        return ~shared
    member = exists().where(
        DocumentTeam.document_id == document_id,
        DocumentTeam.team_id == TeamMember.team_id,
        TeamMember.user_id == principal.user_id,
    )
    return or_(~shared, member)


READABLE_SQL = (
    "(NOT EXISTS (SELECT 1 FROM document_teams AS dt WHERE dt.document_id = c.document_id) "
    "OR EXISTS (SELECT 1 FROM document_teams AS dt JOIN team_members AS tm "
    "ON tm.team_id = dt.team_id WHERE dt.document_id = c.document_id "
    "AND tm.user_id = CAST(:reader AS uuid)))"
)
"""`readable` for raw SQL over chunks `c` (bind `:reader`, the user id or null)."""


async def require(
    session: AsyncSession, principal: Principal, document: Document, need: Literal["read", "write"]
) -> None:
    """403 unless the caller's teams grant `need` on a team-shared document."""
    if unrestricted(principal):
        return
    grants = (
        await session.execute(
            select(DocumentTeam.permission, TeamMember.user_id)
            .outerjoin(
                TeamMember,
                (TeamMember.team_id == DocumentTeam.team_id)
                & (TeamMember.user_id == (principal.user_id or uuid.UUID(int=0))),
            )
            .where(DocumentTeam.document_id == document.id)
        )
    ).all()
    if not grants:
        return
    mine = {permission for permission, user in grants if user is not None}
    if need in mine or (need == "read" and "write" in mine):
        return
    raise Forbidden(f"this document is shared with teams you are not in ({need})")
