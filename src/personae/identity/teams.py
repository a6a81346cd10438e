"""Teams of a tenant's members, each member a lead or a member of the team."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from personae.identity.members import require_member
from personae.identity.models import Team, TeamMember
from personae.kernel.principal import Principal
from personae.kernel.resources import Resource


class _TeamMembers(Resource[TeamMember]):
    async def check(
        self, session: AsyncSession, principal: Principal, values: Mapping[str, Any]
    ) -> None:
        if "user_id" in values:
            await require_member(session, values["user_id"], "user_id")


TEAMS = Resource(Team, "team", "teams", unique=("name",))
TEAM_MEMBERS = _TeamMembers(
    TeamMember,
    "team_member",
    "teams",
    unique=("team_id", "user_id"),
    actions={"create": "update", "update": "update", "delete": "update"},
)
