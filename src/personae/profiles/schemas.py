"""Request and response shapes of customer profiles, derived from the model."""

from __future__ import annotations

from personae.db.shapes import input_shape, output_shape
from personae.profiles.models import CustomerProfile

PROFILE_FIELDS = ["external_id", "display_name", "metadata"]

ProfileOut = output_shape(CustomerProfile)
ProfileCreate = input_shape(CustomerProfile, PROFILE_FIELDS)
ProfileUpdate = input_shape(CustomerProfile, PROFILE_FIELDS, partial=True)
