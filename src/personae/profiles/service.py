"""Customer profiles as the API manages them (deleting one is erasure: `personae.erasure`),
and the profile behind a person on a channel."""

from __future__ import annotations

import uuid

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from personae.db import locks
from personae.kernel.audit.service import record
from personae.kernel.principal import Principal
from personae.kernel.resources import Resource
from personae.profiles.models import ChannelIdentity, CustomerProfile

PROFILES = Resource(CustomerProfile, "customer_profile", "profiles", unique=("external_id",))


async def on_channel(
    session: AsyncSession, principal: Principal, channel: str, channel_user_id: str
) -> uuid.UUID:
    """The customer profile of whoever `channel_user_id` is on `channel`, made (audited) the
    first time they are seen; followed to the profile it was merged into, if it was.

    The caller's own check stands for this one (a channel maps its people by itself: the
    OpenAI front door's `user`); concurrent first sightings wait for each other."""
    found = await _identified(session, channel, channel_user_id)
    if found is None:
        await locks.hold(session, f"{principal.tenant_id}:channel:{channel}:{channel_user_id}")
        found = await _identified(session, channel, channel_user_id)
    if found is not None:
        return found
    profile_id = uuid.uuid4()
    await session.execute(
        insert(CustomerProfile).values(
            tenant_id=principal.tenant_id, id=profile_id, metadata_={"first_seen_on": channel}
        )
    )
    await session.execute(
        insert(ChannelIdentity).values(
            tenant_id=principal.tenant_id,
            profile_id=profile_id,
            channel=channel,
            channel_user_id=channel_user_id,
        )
    )
    await record(
        session,
        principal,
        "create",
        "customer_profile",
        profile_id,
        data={"channel": channel},  # the person's id on the channel is theirs: not logged
    )
    return profile_id


async def _identified(
    session: AsyncSession, channel: str, channel_user_id: str
) -> uuid.UUID | None:
    found = await session.execute(
        select(CustomerProfile.id, CustomerProfile.merged_into_id)
        .join(ChannelIdentity, ChannelIdentity.profile_id == CustomerProfile.id)
        .where(
            ChannelIdentity.channel == channel, ChannelIdentity.channel_user_id == channel_user_id
        )
    )
    row = found.one_or_none()
    return None if row is None else (row.merged_into_id or row.id)
