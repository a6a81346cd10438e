"""Personas, and sharing one persona with members of the tenant as editor or viewer.

Tenant roles come first: `personas:<action>` allows the action on every persona. On top of
them, a persona's owner may read, change, delete and share it; an editor may read and
change it; a viewer may read it. Whoever can neither read all personas nor has a share
does not see the persona at all (404). An API token uses its creator's shares only within
its own scopes (a token without `personas:read` sees no persona at all)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from personae.errors import Forbidden
from personae.identity.members import require_member
from personae.kernel.principal import Principal
from personae.kernel.resources import Action, Resource
from personae.personas.models import Persona, PersonaMember
from personae.personas.modulation import Levels, adaptation

SHARE_ALLOWS: dict[str, frozenset[str]] = {
    "owner": frozenset({"read", "update", "delete", "share"}),
    "editor": frozenset({"read", "update"}),
    "viewer": frozenset({"read"}),
}


async def share_of(session: AsyncSession, persona: Persona, principal: Principal) -> str | None:
    """The caller's standing on `persona`: owner, editor, viewer, or None."""
    if principal.user_id is None:
        return None
    if persona.owner_id == principal.user_id:
        return "owner"
    role = await session.execute(
        select(PersonaMember.role).where(
            PersonaMember.persona_id == persona.id, PersonaMember.user_id == principal.user_id
        )
    )
    return role.scalar_one_or_none()


async def require_on_persona(
    session: AsyncSession, principal: Principal, persona: Persona, action: str
) -> None:
    """Allow `action` (read, update, delete, share) by tenant role or by share; else 403."""
    tenant_permission = "personas:update" if action == "share" else f"personas:{action}"
    if principal.can(tenant_permission):
        return
    if not principal.scoped_for(tenant_permission):
        raise Forbidden(f"this token lacks the scope {tenant_permission}")
    if action not in SHARE_ALLOWS.get(await share_of(session, persona, principal) or "", ()):
        raise Forbidden(f"this needs {tenant_permission} or a share of the persona that allows it")


class _Personas(Resource[Persona]):
    async def authorize(
        self,
        session: AsyncSession,
        principal: Principal,
        action: Action,
        row: Persona | None,
        where: Mapping[str, Any],
    ) -> None:
        if row is None:  # create needs the tenant permission; lists are filtered
            if action == "create":
                principal.require("personas:create")
            return
        await require_on_persona(session, principal, row, action)

    async def check(
        self, session: AsyncSession, principal: Principal, values: Mapping[str, Any]
    ) -> None:
        """Neuromodulator levels within [0, 1], and a valid adaptation (baseline, decay)."""
        if "neuromodulators" in values:
            Levels.of(values["neuromodulators"])
        if "adaptation_state" in values:
            adaptation(values["adaptation_state"])

    def visible(self, principal: Principal) -> ColumnElement[bool]:
        if principal.can("personas:read"):
            return true()
        if principal.user_id is None or not principal.scoped_for("personas:read"):
            return Persona.id.is_(None)
        shared = select(PersonaMember.persona_id).where(PersonaMember.user_id == principal.user_id)
        return or_(Persona.owner_id == principal.user_id, Persona.id.in_(shared))

    async def create(
        self,
        session: AsyncSession,
        principal: Principal,
        values: Mapping[str, Any],
        where: Mapping[str, Any] | None = None,
    ) -> Persona:
        return await super().create(
            session, principal, {**values, "owner_id": principal.user_id}, where
        )


class _PersonaMembers(Resource[PersonaMember]):
    """Shares of one persona (the path names it): whoever may share it manages them."""

    async def authorize(
        self,
        session: AsyncSession,
        principal: Principal,
        action: Action,
        row: PersonaMember | None,
        where: Mapping[str, Any],
    ) -> None:
        persona = await PERSONAS.get(session, principal, _persona_id(row, where))
        await require_on_persona(
            session, principal, persona, "read" if action == "read" else "share"
        )

    async def check(
        self, session: AsyncSession, principal: Principal, values: Mapping[str, Any]
    ) -> None:
        if "user_id" in values:
            await require_member(session, values["user_id"], "user_id")


def _persona_id(row: PersonaMember | None, where: Mapping[str, Any]) -> uuid.UUID:
    persona_id: uuid.UUID = row.persona_id if row is not None else where["persona_id"]
    return persona_id


PERSONAS = _Personas(Persona, "persona", "personas", unique=("name",))
PERSONA_MEMBERS = _PersonaMembers(
    PersonaMember, "persona_member", "personas", unique=("persona_id", "user_id")
)
