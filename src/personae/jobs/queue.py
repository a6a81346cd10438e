"""The one place procrastinate is touched: task registration, the app, the worker."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import procrastinate
import psycopg_pool
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from personae.settings import Settings

log = logging.getLogger(__name__)

TASK_MODULES = ("personae.identity.jobs",)
"""Imported by every queue so that it knows every task."""


@dataclass(frozen=True)
class JobDeps:
    """What a task gets besides its arguments: sessions as the application role."""

    sessions: async_sessionmaker[AsyncSession]


TaskFunction = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class _Spec:
    function: TaskFunction
    name: str
    queue: str
    cron: str | None


_SPECS: dict[str, _Spec] = {}


def task(
    name: str, *, queue: str = "default", cron: str | None = None
) -> Callable[[TaskFunction], TaskFunction]:
    """Declare `async def f(deps: JobDeps, **arguments)` as the task `name`.

    With `cron`, it is also deferred on that schedule (once across all workers) and gets
    the scheduled `timestamp` as an argument."""

    def register(function: TaskFunction) -> TaskFunction:
        _SPECS[name] = _Spec(function, name, queue, cron)
        return function

    return register


def conninfo(url: str) -> str:
    """A libpq connection string for an SQLAlchemy URL (password included)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _bound(spec: _Spec) -> Callable[..., Awaitable[Any]]:
    async def run(context: procrastinate.JobContext, **arguments: Any) -> Any:
        return await spec.function(context.additional_context["deps"], **arguments)

    run.__name__ = spec.function.__name__
    return run


@dataclass
class Queue:
    """A procrastinate app for one database, opened and closed with the process."""

    url: str
    settings: Settings
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
        self.app = procrastinate.App(connector=procrastinate.PsycopgConnector())
        for module in TASK_MODULES:
            importlib.import_module(module)
        for spec in _SPECS.values():
            registered = self.app.task(name=spec.name, queue=spec.queue, pass_context=True)(
                _bound(spec)
            )
            if spec.cron is not None:
                self.app.periodic(cron=spec.cron, periodic_id=spec.name)(registered)

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

    def start_worker(self, deps: JobDeps) -> None:
        """Run a worker inside this process until `stop_worker` (as `personae serve` does),
        starting it again after a failure (the database going away, say)."""

        async def keep_working() -> None:
            while True:
                try:
                    await self.run_worker(deps)
                except Exception as error:  # log without details that may hold the URL
                    log.warning("job worker stopped (%s); restarting", type(error).__name__)
                await asyncio.sleep(self.settings.worker_restart_delay_s)

        self._worker = asyncio.create_task(keep_working(), name="personae-worker")

    async def run_worker(self, deps: JobDeps, *, wait: bool = True, signals: bool = False) -> None:
        """Work until cancelled (or, with `wait=False`, until the queue is empty; with
        `signals`, until SIGINT/SIGTERM, letting running jobs finish)."""
        await self.app.run_worker_async(
            concurrency=self.settings.worker_concurrency,
            wait=wait,
            install_signal_handlers=signals,
            additional_context={"deps": deps},
            shutdown_graceful_timeout=self.settings.worker_shutdown_timeout_s,
            delete_jobs="successful",
        )

    async def stop_worker(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
