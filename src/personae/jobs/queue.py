"""The one place procrastinate is touched: jobs and tasks, the app, the worker.

An area names its kinds of work as `Job`s (a task name and its queue) and lists how to run
them as `Task`s in its `jobs.py`; `personae.tasks` gathers every area's tasks for the
queues. Deferring needs only the `Job`, so an area defers work without knowing the rest."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import procrastinate
import psycopg
import psycopg_pool
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from personae.settings import Settings

log = logging.getLogger(__name__)


def _unreachable(error: BaseException | None) -> bool:
    """Whether `error` (or what caused it) says the database cannot be reached."""
    while error is not None:
        if isinstance(error, psycopg.OperationalError | psycopg_pool.PoolTimeout | OSError):
            return True
        error = error.__cause__ or error.__context__
    return False


class _QuietOutages(logging.Handler):
    """Drops the libraries' own reports of an unreachable database (a traceback per worker
    restart, a line per reconnection attempt: the worker says it once, and once when the
    database is back) and hands everything else to the root logger, as if propagated."""

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("psycopg.pool") and record.levelno < logging.ERROR:
            return
        if record.exc_info and _unreachable(record.exc_info[1]):
            return
        logging.getLogger().handle(record)


def quiet_outages() -> None:
    """Have the libraries' logs go through `_QuietOutages` (once per process)."""
    for library in ("procrastinate", "psycopg.pool"):  # the handler sees their children's too
        logger = logging.getLogger(library)
        if not any(isinstance(h, _QuietOutages) for h in logger.handlers):
            logger.addHandler(_QuietOutages())
        logger.propagate = False


S = TypeVar("S")


@dataclass(frozen=True)
class JobDeps(Generic[S]):
    """What a task gets besides its arguments: sessions as the application role, the
    settings, and the process's shared services (typed by whoever runs the worker: each
    area's tasks say, as a protocol, what they use of them)."""

    sessions: async_sessionmaker[AsyncSession]
    settings: Settings
    services: S
    final_attempt: bool = True
    """False while a failure of this run would be retried."""


TaskFunction = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class Job:
    """A kind of background work: the task's name and the queue its jobs wait in."""

    name: str
    queue: str = "default"


@dataclass(frozen=True)
class Task:
    """How a `Job` runs: `async def function(deps: JobDeps[...], **arguments)`.

    With `cron`, it is also deferred on that schedule (once across all workers) and gets
    the scheduled `timestamp` as an argument. A run failing with one of `retry_on` runs
    again later (`job_max_attempts`, waits growing by `job_retry_backoff`)."""

    job: Job
    function: TaskFunction
    cron: str | None = None
    retry_on: tuple[type[Exception], ...] = ()


DEFER = text(
    "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, 0, :lock, NULL, "
    "CAST(:arguments AS jsonb), now() + make_interval(secs => :delay))"
    "::procrastinate_job_to_defer_v1])"
)


DEFER_ONCE = text(
    "INSERT INTO procrastinate_jobs (queue_name, task_name, priority, lock, queueing_lock, "
    "args, scheduled_at) VALUES (:queue, :task, 0, :lock, :lock, CAST(:arguments AS jsonb), "
    "now() + make_interval(secs => :delay)) ON CONFLICT DO NOTHING"
)
"""procrastinate refuses a second waiting job with the same queueing lock: then none is
added (the waiting one will do)."""


async def defer_in(
    session: AsyncSession,
    job: Job,
    *,
    lock: str | None = None,
    once: bool = False,
    delay_s: float = 0,
    **arguments: Any,
) -> None:
    """Queue `job` in `session`'s transaction: it runs only if that commits (no
    work without its rows, no rows without their work), `delay_s` seconds after. Jobs with
    the same `lock` run one at a time; with `once`, none is queued while one with that lock
    still waits to start."""
    assert lock is not None or not once, "`once` goes by the lock"
    await session.execute(
        DEFER_ONCE if once else DEFER,
        {
            "queue": job.queue,
            "task": job.name,
            "lock": lock,
            "arguments": json.dumps(arguments, default=str),
            "delay": delay_s,
        },
    )


def conninfo(url: str) -> str:
    """A libpq connection string for an SQLAlchemy URL (password included)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _retry(spec: Task, settings: Settings) -> procrastinate.RetryStrategy | None:
    """How a run failing with one of the task's `retry_on` is tried again."""
    if not spec.retry_on or settings.job_max_attempts < 2:
        return None
    return procrastinate.RetryStrategy(
        max_attempts=settings.job_max_attempts - 1,
        wait=settings.job_retry_wait_s,
        exponential_wait=settings.job_retry_backoff,
        retry_exceptions=set(spec.retry_on),
    )


def _bound(spec: Task, settings: Settings) -> Callable[..., Awaitable[Any]]:
    async def run(context: procrastinate.JobContext, **arguments: Any) -> Any:
        deps: JobDeps[Any] = context.additional_context["deps"]
        attempts = context.job.attempts if context.job is not None else 0
        final = not spec.retry_on or attempts + 1 >= settings.job_max_attempts
        return await spec.function(replace(deps, final_attempt=final), **arguments)

    run.__name__ = spec.function.__name__
    return run


@dataclass
class Queue:
    """A procrastinate app for one database, opened and closed with the process."""

    url: str
    settings: Settings
    tasks: Sequence[Task] = ()
    role: str | None = None
    app: procrastinate.App = field(init=False)
    _pool: psycopg_pool.AsyncConnectionPool = field(init=False)
    _worker: asyncio.Task[None] | None = None

    def __post_init__(self) -> None:
        options = f"-c statement_timeout={self.settings.statement_timeout_ms}"
        if self.role is not None:
            options += f" -c role={self.role}"
        self._pool = psycopg_pool.AsyncConnectionPool(
            conninfo(self.url),
            min_size=1,
            max_size=max(2, self.settings.worker_concurrency + 1),
            kwargs={"options": options, "application_name": "personae-jobs"},
            open=False,
            check=psycopg_pool.AsyncConnectionPool.check_connection,
        )
        quiet_outages()
        self.app = procrastinate.App(connector=procrastinate.PsycopgConnector())
        for spec in self.tasks:
            registered = self.app.task(
                name=spec.job.name,
                queue=spec.job.queue,
                pass_context=True,
                retry=_retry(spec, self.settings) or False,
            )(_bound(spec, self.settings))
            if spec.cron is not None:
                self.app.periodic(cron=spec.cron, periodic_id=spec.job.name)(registered)

    async def open(self) -> None:
        """Open without waiting for the database: deferring fails until it is reachable,
        and the worker retries."""
        await self._pool.open(wait=False)
        await self.app.open_async(self._pool)

    async def close(self) -> None:
        await self.stop_worker()
        await self.app.close_async()
        await self._pool.close()

    async def defer(self, name: str, **arguments: Any) -> int:
        """Queue the task `name` with `arguments` (ids, never secrets); returns the job id."""
        job_id: int = await self.app.configure_task(name).defer_async(**arguments)
        return job_id

    def start_worker(self, deps: JobDeps[Any]) -> None:
        """Run a worker inside this process until `stop_worker` (as `personae serve` does),
        starting it again after a failure (the database going away, say)."""

        waiting = False  # for the database: said once when it goes, once when it is back

        async def keep_working() -> None:
            nonlocal waiting
            while True:
                try:
                    await self.recover_stalled()  # the first query: reaches the database
                    if waiting:
                        waiting = False
                        log.warning("job worker: the database is back; working again")
                    await self.run_worker(deps, recover=False)
                except Exception as error:  # log without details that may hold the URL
                    if not _unreachable(error):
                        log.warning("job worker stopped (%s); restarting", type(error).__name__)
                    elif not waiting:
                        waiting = True
                        log.warning("job worker: the database is unreachable; waiting for it")
                await asyncio.sleep(self.settings.worker_restart_delay_s)

        async def keep_recovering() -> None:  # other processes' workers die too
            while True:
                await asyncio.sleep(self.settings.worker_stalled_after_s)
                try:
                    await self.recover_stalled()
                except Exception as error:
                    if not _unreachable(error):
                        log.warning("stalled jobs not checked (%s)", type(error).__name__)

        async def both() -> None:  # cancelled, a task group waits for both to end
            async with asyncio.TaskGroup() as group:
                group.create_task(keep_working())
                group.create_task(keep_recovering())

        self._worker = asyncio.create_task(both(), name="personae-worker")

    async def recover_stalled(self) -> int:
        """Queue again the jobs of workers that stopped sending heartbeats (killed in the
        middle of a job, say); returns how many."""
        manager = self.app.job_manager
        stalled = list(
            await manager.get_stalled_jobs(
                seconds_since_heartbeat=self.settings.worker_stalled_after_s
            )
        )
        for job in stalled:
            assert job.id is not None
            await manager.retry_job_by_id_async(job.id, datetime.now(UTC))
            log.warning("job %s (%s) stalled; queued again", job.id, job.task_name)
        await manager.prune_stalled_workers(self.settings.worker_stalled_after_s)
        return len(stalled)

    async def run_worker(
        self, deps: JobDeps[Any], *, wait: bool = True, signals: bool = False, recover: bool = True
    ) -> None:
        """Work until cancelled (or, with `wait=False`, until the queue is empty; with
        `signals`, until SIGINT/SIGTERM, letting running jobs finish). Jobs left running by
        a dead worker are queued again first (unless `recover` is False: done already)."""
        if recover:
            await self.recover_stalled()
        await self.app.run_worker_async(
            concurrency=self.settings.worker_concurrency,
            wait=wait,
            install_signal_handlers=signals,
            additional_context={"deps": deps},
            shutdown_graceful_timeout=self.settings.worker_shutdown_timeout_s,
            delete_jobs="successful",
            update_heartbeat_interval=self.settings.worker_heartbeat_s,
            stalled_worker_timeout=self.settings.worker_stalled_after_s,
        )

    async def run_until_idle(self, deps: JobDeps[Any]) -> None:
        """Work until no job is ready, including jobs that finished jobs queued (as the
        CLI's `--wait` and tests want); jobs waiting for a retry later are left."""
        while True:
            await self.run_worker(deps, wait=False)
            ready = [
                job
                for job in await self.app.job_manager.list_jobs_async(status="todo")
                if job.scheduled_at is None or job.scheduled_at <= datetime.now(UTC)
            ]
            if not ready:
                return

    async def next_due(self) -> datetime | None:
        """When the earliest job scheduled for later (a retry) is due; None if none is."""
        waiting = [
            job.scheduled_at
            for job in await self.app.job_manager.list_jobs_async(status="todo")
            if job.scheduled_at is not None and job.scheduled_at > datetime.now(UTC)
        ]
        return min(waiting, default=None)

    async def stop_worker(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
