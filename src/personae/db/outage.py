"""Whether the database was last seen reachable, logged once per change (not per request:
while it is down, every request would otherwise log the same failure)."""

from __future__ import annotations

import logging
import time

log = logging.getLogger(__name__)

RETRY_AFTER_S = 5
"""What a request refused for an outage is told to wait (`Retry-After`)."""


class Outage:
    def __init__(self) -> None:
        self.since: float | None = None
        """When the database was first found unreachable (monotonic), while it is."""

    def failed(self, error: BaseException) -> None:
        if self.since is None:
            self.since = time.monotonic()
            log.error(
                "database unreachable (%s): answering 503 until it is back", type(error).__name__
            )

    def reached(self) -> None:
        if self.since is not None:
            down_s, self.since = time.monotonic() - self.since, None
            log.warning("database reachable again after %.1f s", down_s)
