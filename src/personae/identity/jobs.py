"""Identity's background work: deleting sign-in sessions long expired or revoked."""

from __future__ import annotations

from personae.identity.auth import delete_expired_sessions
from personae.jobs import Job, JobDeps, Task

CLEANUP_SIGN_IN_SESSIONS = Job("cleanup_sign_in_sessions", queue="maintenance")


async def cleanup_sign_in_sessions(deps: JobDeps[object], timestamp: int) -> int:
    """Every 30 minutes; the count deleted goes to the worker's log."""
    return await delete_expired_sessions(deps.sessions)


TASKS = (Task(CLEANUP_SIGN_IN_SESSIONS, cleanup_sign_in_sessions, cron="*/30 * * * *"),)
