"""Teams and their members."""

from __future__ import annotations

from fastapi import APIRouter

from personae.api.resource_routes import Parent, mount
from personae.identity import teams
from personae.identity.schemas import (
    TeamCreate,
    TeamMemberCreate,
    TeamMemberOut,
    TeamMemberUpdate,
    TeamOut,
    TeamUpdate,
)

router = APIRouter(prefix="/v1")
mount(
    router,
    teams.TEAMS,
    path="/teams",
    id_param="team_id",
    out=TeamOut,
    create=TeamCreate,
    update=TeamUpdate,
)
mount(
    router,
    teams.TEAM_MEMBERS,
    path="/members",
    id_param="member_id",
    out=TeamMemberOut,
    create=TeamMemberCreate,
    update=TeamMemberUpdate,
    parent=Parent(teams.TEAMS, "/teams", "team_id"),
)
