"""Runs as the API shows them: listed and read (with their steps) by whoever may read
sessions; cancelled by whoever may update them.

A cancel reaches the process carrying the run, whichever it is, through `NOTIFY
personae_run_cancels, '<run id>'`. A run no process carries any more (its process died)
is cancelled where it stands when someone cancels it, and failed as stale by a periodic
sweep once it has been running `run_stale_after_s`."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from personae.db.statements import rowcount
from personae.db.tenancy import every_tenant, tenant_session
from personae.errors import Conflict, NotFound
from personae.kernel.audit.service import record
from personae.kernel.principal import Principal
from personae.kernel.resources import Resource
from personae.sessions.models import Run, RunStep

RUNS = Resource(Run, "run", "sessions")
CANCEL_CHANNEL = "personae_run_cancels"
GOING = ("pending", "running")
_CANCEL = text(f"SELECT pg_notify('{CANCEL_CHANNEL}', :run)")


async def steps_of(session: AsyncSession, run_id: uuid.UUID) -> list[RunStep]:
    found = await session.execute(
        select(RunStep).where(RunStep.run_id == run_id).order_by(RunStep.step_number)
    )
    return list(found.scalars())


async def request_cancel(session: AsyncSession, principal: Principal, run_id: uuid.UUID) -> Run:
    """Check the run may be cancelled (404 / 409), audit the request and, when `session`
    commits, tell every process; the run. The process carrying it stops it and writes it
    `cancelled`."""
    principal.require("sessions:update")
    run = (await session.execute(select(Run).where(Run.id == run_id))).scalar_one_or_none()
    if run is None:
        raise NotFound("no such run")
    if run.status == "requires_action":  # no process carries it: it ends here
        ended = await end_wait(
            session, run.id, "cancelled while it waited for the client's functions"
        )
        await session.refresh(run)
        if ended:
            await record(session, principal, "cancel", "run", run.id)
            return run
    if run.status not in GOING:
        raise Conflict(f"the run is {run.status} already")
    await record(session, principal, "cancel", "run", run.id)
    await session.execute(_CANCEL, {"run": str(run.id)})
    return run


async def end_wait(session: AsyncSession, run_id: uuid.UUID, reason: str) -> bool:
    """Cancel the run if it still waits for the client's functions (not resumed since);
    whether it did."""
    ended = await session.execute(
        update(Run)
        .where(Run.id == run_id, Run.status == "requires_action")
        .values(status="cancelled", error_message=reason, completed_at=datetime.now(UTC))
    )
    return rowcount(ended) == 1


async def ended_within(
    sessions: async_sessionmaker[AsyncSession],
    principal: Principal,
    run_id: uuid.UUID,
    seconds: float,
) -> bool:
    """Whether the run leaves pending / running within `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        async with tenant_session(sessions, principal.tenant_id) as session:
            status = (
                await session.execute(select(Run.status).where(Run.id == run_id))
            ).scalar_one_or_none()  # None: erased with its session meanwhile
        if status not in GOING:
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(min(0.1, seconds))


async def abandon(
    sessions: async_sessionmaker[AsyncSession], principal: Principal, run_id: uuid.UUID
) -> None:
    """A run no process carries any more (its process died): cancelled where it stands."""
    async with tenant_session(sessions, principal.tenant_id) as session:
        await session.execute(
            update(Run)
            .where(Run.id == run_id, Run.status.in_(GOING))
            .values(
                status="cancelled",
                error_message="no process was carrying it",
                completed_at=datetime.now(UTC),
            )
        )


async def fail_stale(sessions: async_sessionmaker[AsyncSession], older_than: timedelta) -> int:
    """Fail the runs of every tenant still going `older_than` after they started (no
    process will finish them); how many."""
    cutoff = datetime.now(UTC) - older_than
    failed = 0
    for tenant_id in await every_tenant(sessions):
        async with tenant_session(sessions, tenant_id) as session:
            result = await session.execute(
                update(Run)
                .where(Run.status.in_(GOING), Run.started_at < cutoff)
                .values(
                    status="failed",
                    error_message="stale: no process finished it",
                    completed_at=datetime.now(UTC),
                )
            )
            failed += rowcount(result)
    return failed
