"""Customer profiles as the API manages them (deleting one is erasure: `personae.erasure`)."""

from __future__ import annotations

from personae.kernel.resources import Resource
from personae.profiles.models import CustomerProfile

PROFILES = Resource(CustomerProfile, "customer_profile", "profiles", unique=("external_id",))
