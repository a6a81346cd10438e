"""Secrets: write-only values; reveal needs `secrets:reveal` and is audited."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Response

from personae.api.deps import RequestContext, authorized
from personae.api.services import Shared
from personae.vault import manage
from personae.vault.schemas import SecretOut, SecretRevealed, SecretWrite

router = APIRouter(prefix="/v1/secrets", tags=["secrets"])


@router.put("", summary="Store a secret (or replace its value); the value is never returned")
async def write_secret(
    shared: Shared,
    body: SecretWrite,
    context: Annotated[RequestContext, authorized("secrets:write")],
) -> SecretOut:
    secret = await manage.write_secret(context.session, shared.vault, context.principal, body)
    await context.session.refresh(secret)
    out = SecretOut.model_validate(secret)
    await context.commit()
    return out


@router.get("", summary="List secrets (names and metadata, no values)")
async def list_secrets(
    context: Annotated[RequestContext, authorized("secrets:read")],
) -> list[SecretOut]:
    rows = await manage.list_secrets(context.session, context.principal)
    return [SecretOut.model_validate(row) for row in rows]


@router.post("/{secret_id}/reveal", summary="Reveal a secret's value (audited)")
async def reveal_secret(
    shared: Shared,
    secret_id: uuid.UUID,
    context: Annotated[RequestContext, authorized("secrets:reveal")],
) -> SecretRevealed:
    secret, value = await manage.reveal_secret(
        context.session, shared.vault, context.principal, secret_id
    )
    await context.commit()
    return SecretRevealed(id=secret.id, key_name=secret.key_name, value=value)


@router.delete("/{secret_id}", status_code=204, summary="Delete a secret")
async def delete_secret(
    secret_id: uuid.UUID, context: Annotated[RequestContext, authorized("secrets:delete")]
) -> Response:
    await manage.delete_secret(context.session, context.principal, secret_id)
    await context.commit()
    return Response(status_code=204)
