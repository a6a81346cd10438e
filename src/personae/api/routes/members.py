"""Members and their roles, custom roles, and invitations."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Request

from personae.api.deps import RequestContext, authorized, signed_in_user
from personae.api.services import Shared
from personae.identity import members
from personae.identity.schemas import (
    InvitationAccept,
    InvitationAccepted,
    InvitationCreate,
    InvitationCreated,
    MemberOut,
    MemberRoles,
    RoleCreate,
    RoleOut,
)

router = APIRouter(prefix="/v1", tags=["members"])


@router.get("/members", summary="Members of the tenant and their roles")
async def list_members(
    context: Annotated[RequestContext, authorized("members:read")],
) -> list[MemberOut]:
    views = await members.list_members(context.session, context.principal)
    return [MemberOut(**view.__dict__) for view in views]


@router.put("/members/{user_id}/roles", summary="Replace a member's roles")
async def set_member_roles(
    user_id: uuid.UUID,
    body: MemberRoles,
    context: Annotated[RequestContext, authorized("members:manage")],
) -> MemberOut:
    view = await members.set_member_roles(context.session, context.principal, user_id, body.roles)
    await context.commit()
    return MemberOut(**view.__dict__)


@router.get("/roles", summary="Roles of the tenant with their permissions")
async def list_roles(context: Annotated[RequestContext, authorized("roles:read")]) -> list[RoleOut]:
    rows = await members.list_roles(context.session, context.principal)
    return [
        RoleOut(
            id=r.id,
            name=r.name,
            description=r.description,
            is_builtin=r.is_builtin,
            permissions=perms,
        )
        for r, perms in rows
    ]


@router.post("/roles", status_code=201, summary="Create a custom role")
async def create_role(
    body: RoleCreate, context: Annotated[RequestContext, authorized("roles:manage")]
) -> RoleOut:
    role = await members.create_role(
        context.session, context.principal, body.name, body.permissions, body.description
    )
    out = RoleOut(
        id=role.id,
        name=role.name,
        description=role.description,
        is_builtin=False,
        permissions=sorted(set(body.permissions)),
    )
    await context.commit()
    return out


@router.post("/invitations", status_code=201, summary="Invite someone (token shown once)")
async def invite(
    body: InvitationCreate, context: Annotated[RequestContext, authorized("invitations:create")]
) -> InvitationCreated:
    row, token = await members.invite(context.session, context.principal, body.email, body.role)
    out = InvitationCreated(
        id=row.id, email=row.email, role=body.role, expires_at=row.expires_at, token=token
    )
    await context.commit()
    return out


@router.post("/invitations/accept", summary="Accept an invitation")
async def accept(shared: Shared, body: InvitationAccept, request: Request) -> InvitationAccepted:
    """For an email with no account: no sign-in, a `password` for the new account. For an
    existing account: signed in as that account (any of its tenants), no password."""
    signed_in = await signed_in_user(request) if "authorization" in request.headers else None
    tenant_id, user_id = await members.accept_invitation(
        shared.sessions, body.token, body.password, signed_in
    )
    return InvitationAccepted(tenant_id=tenant_id, user_id=user_id)
