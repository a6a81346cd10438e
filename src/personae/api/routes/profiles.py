"""Customer profiles: the people agents talk to."""

from __future__ import annotations

from fastapi import APIRouter

from personae.api.resource_routes import mount
from personae.erasure import delete_customer
from personae.profiles import schemas
from personae.profiles.service import PROFILES

router = APIRouter(prefix="/v1", tags=["profiles"])
mount(
    router,
    PROFILES,
    path="/customer-profiles",
    id_param="profile_id",
    out=schemas.ProfileOut,
    create=schemas.ProfileCreate,
    update=schemas.ProfileUpdate,
    delete=delete_customer,
)
