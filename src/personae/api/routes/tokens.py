"""API tokens: create (shown once), list, revoke."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Response

from personae.api.deps import RequestContext, authorized
from personae.identity import api_tokens
from personae.identity.schemas import ApiTokenCreate, ApiTokenCreated, ApiTokenOut

router = APIRouter(prefix="/v1/tokens", tags=["tokens"])


@router.post("", status_code=201, summary="Create an API token (its text is shown once)")
async def create_token(
    body: ApiTokenCreate, context: Annotated[RequestContext, authorized("tokens:create")]
) -> ApiTokenCreated:
    row, token = await api_tokens.create_api_token(
        context.session,
        context.principal,
        name=body.name,
        scopes=body.scopes,
        expires_in_days=body.expires_in_days,
    )
    created = ApiTokenCreated.model_validate(
        {**ApiTokenOut.model_validate(row).model_dump(), "token": token}
    )
    await context.commit()
    return created


@router.get("", summary="List the tenant's API tokens")
async def list_tokens(
    context: Annotated[RequestContext, authorized("tokens:read")],
) -> list[ApiTokenOut]:
    rows = await api_tokens.list_api_tokens(context.session, context.principal)
    return [ApiTokenOut.model_validate(row) for row in rows]


@router.delete("/{token_id}", status_code=204, summary="Revoke an API token")
async def revoke_token(
    token_id: uuid.UUID, context: Annotated[RequestContext, authorized("tokens:revoke")]
) -> Response:
    await api_tokens.revoke_api_token(context.session, context.principal, token_id)
    await context.commit()
    return Response(status_code=204)
