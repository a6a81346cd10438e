"""Sign in, refresh, sign out, and who am I."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from personae.api.deps import SignedIn, client_ip
from personae.api.resource_routes import list_of
from personae.api.services import Shared
from personae.identity import credentials, external
from personae.identity.auth import TokenPair
from personae.identity.schemas import (
    IdentityOut,
    LoginRequest,
    MeResponse,
    PasswordChange,
    RefreshRequest,
    TokenResponse,
)

router = APIRouter(prefix="/v1", tags=["auth"])


def _tokens(pair: TokenPair) -> TokenResponse:
    return TokenResponse.model_validate(pair, from_attributes=True)


async def _attempt(shared: Shared, who_where: str) -> None:
    """Count a password tried by one account from one address: a minute's window, then an
    hour's (a repeated guesser waits longer); 429 past either."""
    for window in shared.login_limits_pair:
        await window.hit(who_where, what="password attempts for this account from here")


@router.post("/auth/login", summary="Sign in with email and password")
async def login(shared: Shared, body: LoginRequest, request: Request) -> TokenResponse:
    ip = client_ip(request)
    if ip:  # per account *and* address: a stranger elsewhere cannot lock the user out
        await _attempt(shared, f"{body.email.strip().lower()} {ip}")
        await shared.login_limit_ip.hit(ip, what="sign-in attempts from this address")
    authenticator = shared.authenticator
    pair = await authenticator.login(
        body.email,
        body.password,
        tenant=body.tenant,
        ip_address=ip,
        user_agent=request.headers.get("user-agent"),
    )
    return _tokens(pair)


@router.post("/auth/refresh", summary="Trade a refresh token for a new pair")
async def refresh(shared: Shared, body: RefreshRequest, request: Request) -> TokenResponse:
    authenticator = shared.authenticator
    pair = await authenticator.refresh(
        body.refresh_token,
        ip_address=client_ip(request),
        user_agent=request.headers.get("user-agent"),
    )
    return _tokens(pair)


@router.post("/auth/logout", status_code=204, summary="Sign out: revoke this session")
async def logout(shared: Shared, context: SignedIn) -> Response:
    await context.session.rollback()
    authenticator = shared.authenticator
    await authenticator.logout(context.principal)
    return Response(status_code=204)


@router.get("/me", summary="The caller: tenant, user and permissions")
async def me(context: SignedIn) -> MeResponse:
    principal = context.principal
    return MeResponse(
        kind=principal.kind,
        tenant_id=principal.tenant_id,
        user_id=principal.user_id,
        permissions=sorted(principal.permissions),
    )


@router.post("/me/password", status_code=204, summary="Change your password")
async def change_password(
    shared: Shared, body: PasswordChange, request: Request, context: SignedIn
) -> Response:
    """The current password, then the new one (12 characters or more); your other sign-ins
    end (this one goes on). Limited like sign-ins."""
    await context.session.rollback()
    await _attempt(shared, f"user {context.principal.user_id} {client_ip(request)}")
    await credentials.change_password(
        shared.sessions, context.principal, body.current_password, body.new_password
    )
    return Response(status_code=204)


@router.get(
    "/me/identities",
    response_model=list_of(IdentityOut),
    summary="The caller's linked external identities",
)
async def my_identities(context: SignedIn) -> list[BaseModel]:
    identities = await external.mine(context.session, context.principal)
    return [IdentityOut.model_validate(identity) for identity in identities]


@router.delete("/me/identities/{identity_id}", status_code=204, summary="Unlink one of them")
async def unlink_identity(identity_id: uuid.UUID, context: SignedIn) -> Response:
    await external.unlink_mine(context.session, context.principal, identity_id)
    await context.commit()
    return Response(status_code=204)
