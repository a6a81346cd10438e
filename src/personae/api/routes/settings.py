"""Settings: resolved by precedence; written per scope (tenant, persona, your own user)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from personae.api.deps import RequestContext, SignedIn, authorized
from personae.api.services import Shared
from personae.settings_store import service
from personae.settings_store.schemas import ResolvedSetting, SettingIn

router = APIRouter(prefix="/v1/settings", tags=["settings"])
Key = Annotated[str, Path(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9_.:-]+$")]


@router.get("", summary="Effective settings of a namespace (system < tenant < persona < user)")
async def resolved(
    context: Annotated[RequestContext, authorized("settings:read")],
    namespace: Annotated[str, Query(max_length=20)] = "general",
    persona_id: uuid.UUID | None = None,
) -> list[ResolvedSetting]:
    return await service.resolve(context.session, context.principal, namespace, persona_id)


@router.put("/{scope}/{key}", summary="Set a setting at one scope")
async def put_setting(
    shared: Shared, scope: str, key: Key, body: SettingIn, context: SignedIn
) -> ResolvedSetting:
    setting = await service.put_setting(
        context.session, shared.vault, context.principal, scope, key, body
    )
    out = ResolvedSetting(
        key=setting.key,
        namespace=setting.namespace,
        scope=setting.scope,
        secret=body.secret,
        value=None if body.secret else body.value,
        secret_id=setting.secret_id,
    )
    await context.commit()
    return out


@router.delete("/{scope}/{key}", status_code=204, summary="Remove a setting at one scope")
async def delete_setting(
    scope: str,
    key: Key,
    context: SignedIn,
    namespace: Annotated[str, Query(max_length=20)] = "general",
    scope_id: uuid.UUID | None = None,
) -> Response:
    await service.delete_setting(
        context.session, context.principal, scope, key, namespace, scope_id
    )
    await context.commit()
    return Response(status_code=204)
