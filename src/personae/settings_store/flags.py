"""Feature flags: each tenant has a profile (minimal < standard < enhanced < max) whose
defaults come from the catalogue below; a tenant may override any flag."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from personae.db.statements import rowcount
from personae.errors import NotFound, ValidationFailed
from personae.identity.models import FEATURE_PROFILES, Tenant
from personae.kernel.audit.service import record
from personae.kernel.principal import Principal
from personae.settings_store.models import FeatureFlag

FLAGS: dict[str, tuple[str, str]] = {
    # flag: (lowest profile that enables it, what it does)
    "search_logging": ("enhanced", "log search queries and results"),
    "memory_extraction": ("standard", "extract entities and facts from turns"),
    "curated_summaries": ("enhanced", "write curated summary chunks"),
    "tool_sandbox_network": ("max", "let sandboxed tools reach allowed hosts"),
    "session_cache": ("standard", "serve session state from the hot cache"),
    "telemetry": ("minimal", "record conversation telemetry"),
}


@dataclass(frozen=True)
class FlagState:
    key: str
    enabled: bool
    source: str  # "profile" or "override"
    description: str


def profile_default(flag: str, profile: str) -> bool:
    lowest = FLAGS[flag][0]
    return FEATURE_PROFILES.index(profile) >= FEATURE_PROFILES.index(lowest)


def _known(flag: str) -> None:
    if flag not in FLAGS:
        raise NotFound(f"no flag named {flag!r}")


async def enabled(session: AsyncSession, tenant_id: uuid.UUID, flag: str) -> bool:
    """Whether `flag` is on for the tenant (Personae asking for itself: no permission)."""
    _known(flag)
    profile = select(Tenant.feature_profile).where(Tenant.id == tenant_id).scalar_subquery()
    override = select(FeatureFlag.enabled).where(FeatureFlag.flag_key == flag).scalar_subquery()
    found = (await session.execute(select(profile, override))).one()
    return bool(found[1]) if found[1] is not None else profile_default(flag, found[0])


async def resolve_flags(session: AsyncSession, principal: Principal) -> tuple[str, list[FlagState]]:
    principal.require("flags:read")
    profile = (
        await session.execute(
            select(Tenant.feature_profile).where(Tenant.id == principal.tenant_id)
        )
    ).scalar_one()
    overrides = dict(
        (await session.execute(select(FeatureFlag.flag_key, FeatureFlag.enabled))).all()
    )
    states = [
        FlagState(
            key,
            overrides[key] if key in overrides else profile_default(key, profile),
            "override" if key in overrides else "profile",
            description,
        )
        for key, (_, description) in sorted(FLAGS.items())
    ]
    return profile, states


async def set_profile(session: AsyncSession, principal: Principal, profile: str) -> None:
    principal.require("flags:write")
    if profile not in FEATURE_PROFILES:
        raise ValidationFailed(f"one of {', '.join(FEATURE_PROFILES)}", field="profile")
    tenant = (
        await session.execute(select(Tenant).where(Tenant.id == principal.tenant_id))
    ).scalar_one()
    tenant.feature_profile = profile
    await record(
        session, principal, "set_profile", "flags", principal.tenant_id, data={"profile": profile}
    )


async def override_flag(
    session: AsyncSession, principal: Principal, flag: str, enabled: bool
) -> None:
    principal.require("flags:write")
    _known(flag)
    statement = insert(FeatureFlag).values(
        tenant_id=principal.tenant_id, flag_key=flag, enabled=enabled
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["tenant_id", "flag_key"], set_={"enabled": enabled}
        )
    )
    await record(session, principal, "override", "flag", flag, data={"enabled": enabled})


async def clear_override(session: AsyncSession, principal: Principal, flag: str) -> None:
    principal.require("flags:write")
    _known(flag)
    result = await session.execute(delete(FeatureFlag).where(FeatureFlag.flag_key == flag))
    if not rowcount(result):
        raise NotFound(f"flag {flag!r} has no override")
    await record(session, principal, "clear_override", "flag", flag)
