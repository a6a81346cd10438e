"""What every command shares: settings, the app role's sessions, one-line errors."""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from personae.db.engine import DatabaseUrls
from personae.errors import ConfigurationError
from personae.settings import Settings, get_settings

P = ParamSpec("P")
R = TypeVar("R")
Sessions = async_sessionmaker[AsyncSession]

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Where the embedded database lives (PERSONAE_DATA_DIR)."),
]


def one_line_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn ConfigurationError into one line on stderr and exit code 2, no traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except ConfigurationError as exc:
            typer.echo(f"personae: {exc.detail}", err=True)
            raise typer.Exit(2) from None

    return wrapper


def settings_for(data_dir: Path | None = None, **overrides: object) -> Settings:
    settings = get_settings()
    updates = {k: v for k, v in overrides.items() if v is not None}
    if data_dir is not None:
        updates["data_dir"] = data_dir.expanduser().resolve()
    return settings.model_copy(update=updates) if updates else settings


def as_app(settings: Settings, urls: DatabaseUrls, work: Callable[[Sessions], Awaitable[R]]) -> R:
    """Run `work` with sessions of the application role (as the API does), then close."""
    from personae.db.engine import create_engine, sessionmaker

    async def run() -> R:
        engine = create_engine(urls.app, settings, role=urls.app_role)
        try:
            return await work(sessionmaker(engine))
        finally:
            await engine.dispose()

    return asyncio.run(run())


async def run_jobs(
    sessions: Sessions, urls: DatabaseUrls, settings: Settings, *, until_idle: bool
) -> None:
    """Work through the job queue as a worker: until no job is ready, or until a signal."""
    from personae.jobs import JobDeps, Queue
    from personae.providers.embeddings import Embedders
    from personae.startup import settle_heap
    from personae.tasks import TASKS, WorkerServices
    from personae.vault.keyring import resolve_master_key
    from personae.vault.service import Vault

    vault = Vault(resolve_master_key(settings, embedded=settings.database_url is None))
    queue = Queue(urls.app, settings, TASKS, role=urls.app_role)
    embedders = Embedders(settings)
    await queue.open()
    try:
        deps = JobDeps(sessions, settings, WorkerServices(embedders, vault))
        if until_idle:
            await queue.run_until_idle(deps)
        else:
            settle_heap()  # a long-lived worker, as the API settles its own
            await queue.run_worker(deps, signals=True)
    finally:
        await queue.close()
        await embedders.close()


async def tenant_named(sessions: Sessions, tenant: str) -> uuid.UUID:
    """The id of the tenant `tenant` names by slug or id (else a `ConfigurationError`)."""
    from sqlalchemy import or_, select

    from personae.identity.models import Tenant

    try:
        as_id = uuid.UUID(tenant)
    except ValueError:
        as_id = None
    async with sessions() as session:
        found = await session.execute(
            select(Tenant.id).where(or_(Tenant.slug == tenant, Tenant.id == as_id))
        )
        tenant_id = found.scalar_one_or_none()
    if tenant_id is None:
        raise ConfigurationError(f"no tenant {tenant!r}; give its slug or id")
    return tenant_id
