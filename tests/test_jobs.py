"""The job queue: a worker runs deferred and periodic tasks as the application role."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from personae.db.engine import DatabaseUrls
from personae.db.tenancy import tenant_session
from personae.identity.models import AuthSession
from personae.identity.service import create_tenant, sync_permissions
from personae.jobs import Job, JobDeps, Queue, Task
from personae.settings import Settings
from personae.tasks import TASKS
from tests.waiting import eventually


async def test_the_cleanup_task_deletes_long_expired_sign_in_sessions(
    urls: DatabaseUrls, owner_engine: AsyncEngine, app_sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with owner_engine.begin() as conn:
        await sync_permissions(conn)
    async with app_sessions() as session, session.begin():
        created = await create_tenant(session, "Jobs", "jobs@example.com")
    tenant_id = created.tenant.id
    now = datetime.now(UTC)
    async with tenant_session(app_sessions, tenant_id) as session:
        for days in (-2, 1):  # one expired two days ago, one live
            session.add(
                AuthSession(
                    tenant_id=tenant_id,
                    user_id=created.owner.id,
                    family_id=created.owner.id,
                    token_hash=f"hash{days}",
                    expires_at=now + timedelta(days=days),
                )
            )

    queue = Queue(urls.app, Settings(worker_concurrency=1), TASKS)
    await queue.open()
    try:
        job_id = await queue.defer("cleanup_sign_in_sessions", timestamp=0)
        await queue.run_worker(JobDeps(app_sessions, Settings(), None), wait=False)
    finally:
        await queue.close()

    async with tenant_session(app_sessions, tenant_id) as session:
        left = (await session.execute(select(AuthSession.token_hash))).scalars().all()
    assert left == ["hash1"]
    async with owner_engine.connect() as conn:
        status = (
            await conn.execute(
                text("SELECT status FROM procrastinate_jobs WHERE id = :id"), {"id": job_id}
            )
        ).scalar_one_or_none()
        failed = (
            await conn.execute(
                select(func.count())
                .select_from(text("procrastinate_jobs"))
                .where(text("status = 'failed'"))
            )
        ).scalar_one()
    assert status is None  # succeeded, then deleted
    assert failed == 0


FINISHED: list[str] = []


async def _slow_job(deps: JobDeps[object], *, label: str) -> None:
    await asyncio.sleep(1.5)
    FINISHED.append(label)


async def test_stopping_the_worker_lets_a_running_job_finish(
    urls: DatabaseUrls,
    app_sessions: async_sessionmaker[AsyncSession],
    owner_engine: AsyncEngine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    slow = Task(Job("tests.slow_job"), _slow_job)
    queue = Queue(urls.app, Settings(worker_concurrency=1, worker_shutdown_timeout_s=10), [slow])
    await queue.open()
    queue.start_worker(JobDeps(app_sessions, Settings(), None))
    job_id = await queue.defer("tests.slow_job", label="drained")

    async def taken() -> bool:  # by the worker
        async with owner_engine.connect() as conn:
            status = await conn.scalar(
                text("SELECT status FROM procrastinate_jobs WHERE id = :id"), {"id": job_id}
            )
        return bool(status == "doing")

    await eventually(taken)
    with caplog.at_level(logging.WARNING):
        await queue.close()
    assert FINISHED == ["drained"]
    assert "job worker stopped" not in caplog.text
    async with owner_engine.connect() as conn:
        left = (
            await conn.execute(
                text("SELECT status FROM procrastinate_jobs WHERE id = :id"), {"id": job_id}
            )
        ).scalar_one_or_none()
    assert left is None  # succeeded (and deleted), not left 'doing' for another worker
