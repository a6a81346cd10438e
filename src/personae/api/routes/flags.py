"""Feature flags: the tenant's profile and its overrides."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response

from personae.api.deps import RequestContext, authorized
from personae.settings_store import flags
from personae.settings_store.schemas import FlagIn, FlagOut, FlagsOut, ProfileIn

router = APIRouter(prefix="/v1/flags", tags=["flags"])


async def _state(context: RequestContext) -> FlagsOut:
    profile, states = await flags.resolve_flags(context.session, context.principal)
    return FlagsOut(profile=profile, flags=[FlagOut(**state.__dict__) for state in states])


@router.get("", summary="Every flag, resolved: profile default or override")
async def get_flags(context: Annotated[RequestContext, authorized("flags:read")]) -> FlagsOut:
    return await _state(context)


@router.put("", summary="Set the tenant's flag profile")
async def set_profile(
    body: ProfileIn, context: Annotated[RequestContext, authorized("flags:write")]
) -> FlagsOut:
    await flags.set_profile(context.session, context.principal, body.profile)
    state = await _state(context)
    await context.commit()
    return state


@router.put("/{flag_key}", summary="Override one flag for this tenant")
async def override(
    flag_key: str, body: FlagIn, context: Annotated[RequestContext, authorized("flags:write")]
) -> FlagsOut:
    await flags.override_flag(context.session, context.principal, flag_key, body.enabled)
    state = await _state(context)
    await context.commit()
    return state


@router.delete("/{flag_key}", status_code=204, summary="Back to the profile's default")
async def clear(
    flag_key: str, context: Annotated[RequestContext, authorized("flags:write")]
) -> Response:
    await flags.clear_override(context.session, context.principal, flag_key)
    await context.commit()
    return Response(status_code=204)
