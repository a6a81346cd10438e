"""Customer profiles as the API manages them. Deleting one is erasure: the customer's
sessions (each erased as a session is, with its own audit event), their memories, the
facts only those supported, the entities kept in their scope, their channel identities and
fields, in one transaction, and an audit event that counts what went (not what it said)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from personae.audit.service import record
from personae.identity.principal import Principal
from personae.memory.erasure import erase
from personae.profiles.models import CustomerProfile
from personae.resources import Resource
from personae.sessions.models import Session
from personae.sessions.service import SESSIONS


class _Profiles(Resource[CustomerProfile]):
    async def delete(
        self,
        session: AsyncSession,
        principal: Principal,
        row_id: uuid.UUID,
        where: Mapping[str, Any] | None = None,
    ) -> None:
        """Erase the customer and everything kept about them."""
        row = await self.get(session, principal, row_id, where, action="delete")
        theirs = await session.execute(
            select(Session.id).where(Session.customer_profile_id == row_id)
        )
        conversations = list(theirs.scalars())
        for conversation in conversations:
            await SESSIONS.delete(session, principal, conversation)
        erased = await erase(session, customer_profile_id=row_id)
        await session.delete(row)  # identities, fields and assets cascade
        await session.flush()
        await record(
            session,
            principal,
            "delete",
            self.kind,
            row_id,
            data={"sessions": len(conversations), **erased},
        )


PROFILES = _Profiles(CustomerProfile, "customer_profile", "profiles", unique=("external_id",))
