"""SQL conditions of the two times, for statements that name the table's rows `c`: what we
knew at `:known_at` (system time) and what held at a moment (event time); both default to
the statement's `now()`."""

KNOWN = (
    "c.recorded_at <= coalesce(CAST(:known_at AS timestamptz), now()) AND (c.expired_at IS NULL "
    "OR c.expired_at > coalesce(CAST(:known_at AS timestamptz), now()))"
)
"""Recorded by `known_at` (now, if not given) and not retracted by then."""
AS_OF = "coalesce(CAST(:as_of AS timestamptz), now())"
"""`as_of`, or now if not given."""
HELD_AT = "c.valid_from <= {at} AND (c.valid_to IS NULL OR c.valid_to > {at})"
"""Valid (event time) at the moment `at`."""
