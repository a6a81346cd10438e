"""Request dependencies: who is calling (bound to their tenant), and what they may do.

Every route that touches tenant data takes a `RequestContext` through `authorized(...)`:
its session's transactions are bound to the caller's tenant, and the open one is rolled back
unless the handler commits it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from personae.api.services import services
from personae.db.after_commit import commit
from personae.db.tenancy import bind_each_transaction
from personae.errors import Unauthorized
from personae.identity.api_tokens import token_principal
from personae.identity.tokens import API_TOKEN_PREFIX
from personae.kernel.principal import Principal


@dataclass
class RequestContext:
    session: AsyncSession
    principal: Principal

    async def commit(self) -> None:
        await commit(self.session)


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("sign in first: send `Authorization: Bearer <access token>`")
    return token.strip()


async def request_context(request: Request) -> AsyncIterator[RequestContext]:
    token = bearer_token(request)
    shared = services(request)
    async with shared.sessions() as session:
        if token.startswith(f"{API_TOKEN_PREFIX}_"):
            async with session.begin():  # the token's use is audited even if the request fails
                principal = await token_principal(session, token, ip_address=client_ip(request))
            bind_each_transaction(session, principal.tenant_id)
        else:
            principal = await shared.authenticator.principal(
                session, token, ip_address=client_ip(request)
            )
        try:
            yield RequestContext(session, principal)
        finally:
            if session.in_transaction():
                await session.rollback()


async def signed_in_user(request: Request) -> uuid.UUID:
    """The user a sign-in (an access token, not an API token) belongs to."""
    token = bearer_token(request)
    if token.startswith(f"{API_TOKEN_PREFIX}_"):
        raise Unauthorized("sign in as a user: an API token does not speak for its creator here")
    shared = services(request)
    async with shared.sessions() as session:
        principal: Principal = await shared.authenticator.principal(
            session, token, ip_address=client_ip(request)
        )
        await session.rollback()
    assert principal.user_id is not None
    return principal.user_id


def authorized(permission: str | None = None) -> Any:
    """`Depends` on a signed-in caller holding `permission` (None: any signed-in caller)."""

    async def dependency(
        context: RequestContext = Depends(request_context),  # noqa: B008 - FastAPI idiom
    ) -> RequestContext:
        if permission is not None:
            context.principal.require(permission)
        return context

    return Depends(dependency)


SignedIn = Annotated[RequestContext, authorized()]
"""Any signed-in caller; routes needing a permission use `Annotated[..., authorized(p)]`."""
