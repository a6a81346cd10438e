"""The runtime's background work: failing the runs their process left behind."""

from __future__ import annotations

from datetime import timedelta

from personae.jobs import JobDeps, task
from personae.runtime.runs import fail_stale


@task("fail_stale_runs", queue="maintenance", cron="*/15 * * * *")
async def fail_stale_runs(deps: JobDeps, timestamp: int) -> int:
    """Every 15 minutes; the count failed goes to the worker's log."""
    del timestamp
    return await fail_stale(deps.sessions, timedelta(seconds=deps.settings.run_stale_after_s))
