"""Sign in, refresh, sign out, and who am I."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from personae.api.deps import SignedIn, client_ip
from personae.identity.auth import Authenticator, TokenPair
from personae.identity.schemas import LoginRequest, MeResponse, RefreshRequest, TokenResponse

router = APIRouter(prefix="/v1", tags=["auth"])


def _tokens(pair: TokenPair) -> TokenResponse:
    return TokenResponse.model_validate(pair, from_attributes=True)


@router.post("/auth/login", summary="Sign in with email and password")
async def login(body: LoginRequest, request: Request) -> TokenResponse:
    state = request.app.state
    ip = client_ip(request)
    state.login_limit_account.hit(body.email.strip().lower(), what="sign-in attempts")
    if ip:
        state.login_limit_ip.hit(ip, what="sign-in attempts from this address")
    authenticator: Authenticator = state.authenticator
    pair = await authenticator.login(
        body.email,
        body.password,
        tenant=body.tenant,
        ip_address=ip,
        user_agent=request.headers.get("user-agent"),
    )
    return _tokens(pair)


@router.post("/auth/refresh", summary="Trade a refresh token for a new pair")
async def refresh(body: RefreshRequest, request: Request) -> TokenResponse:
    authenticator: Authenticator = request.app.state.authenticator
    pair = await authenticator.refresh(
        body.refresh_token,
        ip_address=client_ip(request),
        user_agent=request.headers.get("user-agent"),
    )
    return _tokens(pair)


@router.post("/auth/logout", status_code=204, summary="Sign out: revoke this session")
async def logout(request: Request, context: SignedIn) -> Response:
    await context.session.rollback()
    authenticator: Authenticator = request.app.state.authenticator
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
