"""Runs as the API shows them: listed and read (with their steps) by whoever may read
sessions; cancelled by whoever may update them."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from personae.audit.service import record
from personae.errors import Conflict, NotFound
from personae.identity.principal import Principal
from personae.resources import Resource
from personae.sessions.models import Run, RunStep

RUNS = Resource(Run, "run", "sessions")


async def steps_of(session: AsyncSession, run_id: uuid.UUID) -> list[RunStep]:
    found = await session.execute(
        select(RunStep).where(RunStep.run_id == run_id).order_by(RunStep.step_number)
    )
    return list(found.scalars())


async def request_cancel(session: AsyncSession, principal: Principal, run_id: uuid.UUID) -> Run:
    """Check the run may be cancelled (404 / 409) and audit the request; the run. The
    process carrying it stops it and writes it `cancelled`."""
    principal.require("sessions:update")
    run = (await session.execute(select(Run).where(Run.id == run_id))).scalar_one_or_none()
    if run is None:
        raise NotFound("no such run")
    if run.status not in ("pending", "running"):
        raise Conflict(f"the run is {run.status} already")
    await record(session, principal, "cancel", "run", run.id)
    return run


async def abandon(session: AsyncSession, run_id: uuid.UUID) -> None:
    """A run no process carries any more (its process died): cancelled where it stands."""
    await session.execute(
        update(Run)
        .where(Run.id == run_id, Run.status.in_(("pending", "running")))
        .values(status="cancelled", error_message="no process was carrying it")
    )
