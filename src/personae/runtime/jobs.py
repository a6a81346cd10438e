"""The runtime's background work: failing the runs their process left behind."""

from __future__ import annotations

from datetime import timedelta

from personae.jobs import Job, JobDeps, Task
from personae.runtime.runs import fail_stale

FAIL_STALE_RUNS = Job("fail_stale_runs", queue="maintenance")


async def fail_stale_runs(deps: JobDeps[object], timestamp: int) -> int:
    """Every 15 minutes; the count failed goes to the worker's log."""
    del timestamp
    return await fail_stale(deps.sessions, timedelta(seconds=deps.settings.run_stale_after_s))


TASKS = (Task(FAIL_STALE_RUNS, fail_stale_runs, cron="*/15 * * * *"),)
