"""`personae ingest`: documents from files and folders, with a progress bar."""

from __future__ import annotations

import uuid
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import Progress, TaskID

from personae.cli.common import DataDir, Sessions, as_app, one_line_errors, settings_for
from personae.db.engine import DatabaseUrls
from personae.errors import ConfigurationError, PersonaeError

if TYPE_CHECKING:
    from personae.knowledge.migration import Migrated
    from personae.providers.embeddings import Embedder

READABLE = (".txt", ".text", ".md", ".markdown", ".html", ".htm", ".pdf")
"""Files taken from folders (files named directly are always tried)."""


def files_under(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix.lower() in READABLE)
        elif path.is_file():
            found.append(path)
        else:
            raise ConfigurationError(f"{path} is not a file or folder")
    return found


async def _tenant_id(sessions: Sessions, tenant: str) -> uuid.UUID:
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


@one_line_errors
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files, or folders to read files from.")],
    tenant: Annotated[str, typer.Option("--tenant", help="The tenant's slug or id.")],
    persona: Annotated[
        uuid.UUID | None, typer.Option("--persona", help="The persona they belong to.")
    ] = None,
    wait: Annotated[
        bool, typer.Option(help="Ingest here and now (else the server's worker does).")
    ] = True,
    data_dir: DataDir = None,
) -> None:
    """Upload text, Markdown, HTML and PDF files as documents and ingest them."""
    from sqlalchemy import select

    from personae.db.database import open_database
    from personae.db.tenancy import tenant_session
    from personae.identity.principal import Principal
    from personae.jobs import JobDeps, Queue
    from personae.knowledge.documents import upload
    from personae.knowledge.models import Document
    from personae.providers.embeddings import open_embedder

    files = files_under(paths)
    settings = settings_for(data_dir)

    async def run(sessions: Sessions, urls: DatabaseUrls) -> Counter[str]:
        tenant_id = await _tenant_id(sessions, tenant)
        principal = Principal.system(tenant_id)
        outcome: Counter[str] = Counter()
        uploaded: dict[uuid.UUID, Path] = {}
        with Progress() as progress:
            bar = progress.add_task("uploading", total=len(files))
            for path in files:
                try:
                    content = path.read_bytes()
                    if len(content) > settings.max_document_bytes:
                        raise ConfigurationError(f"over {settings.max_document_bytes} bytes")
                    async with tenant_session(sessions, tenant_id) as session:
                        row = await upload(
                            session, principal, path.name, content, persona_id=persona
                        )
                    uploaded[row.id] = path
                    outcome["uploaded"] += 1
                except (PersonaeError, OSError) as error:
                    detail = getattr(error, "detail", None) or str(error)
                    progress.console.print(f"[red]{path}[/red]: {detail}")
                    outcome["refused"] += 1
                progress.advance(bar)
            if wait and outcome["uploaded"]:
                progress.add_task("ingesting (chunking and embedding)", total=None)
                queue = Queue(urls.app, settings, role=urls.app_role)
                embedder = open_embedder(settings)
                await queue.open()
                try:
                    deps = JobDeps(sessions, settings, {"embedder": embedder})
                    await queue.run_until_idle(deps)
                finally:
                    await queue.close()
                    await embedder.close()
                async with tenant_session(sessions, tenant_id) as session:
                    found = await session.execute(
                        select(Document.id, Document.status, Document.error_message).where(
                            Document.id.in_(uploaded)
                        )
                    )
                    for document_id, status, reason in found:
                        outcome[status] += 1
                        if reason:
                            progress.console.print(f"[red]{uploaded[document_id]}[/red]: {reason}")
        return outcome

    with open_database(settings) as urls:
        outcome = as_app(settings, urls, lambda sessions: run(sessions, urls))
    done = f", {outcome['completed']} ingested, {outcome['failed']} failed" if wait else ""
    later = "" if wait else "; the server's worker will ingest them"
    typer.echo(f"{outcome['uploaded']} uploaded, {outcome['refused']} refused{done}{later}")
    if outcome["refused"] or outcome["failed"]:
        raise typer.Exit(1)


embeddings_app = typer.Typer(
    help="Embedding models: move chunks to another one without a gap.", no_args_is_help=True
)
Provider = Annotated[str, typer.Option("--to", help="minilm, hashing or openai (as configured).")]
TenantOption = Annotated[
    str | None, typer.Option("--tenant", help="One tenant's slug or id (else every tenant).")
]


async def _tenants(sessions: Sessions, tenant: str | None) -> list[uuid.UUID]:
    from sqlalchemy import select

    from personae.identity.models import Tenant

    if tenant is not None:
        return [await _tenant_id(sessions, tenant)]
    async with sessions() as session:
        found = await session.execute(select(Tenant.id).where(Tenant.deleted_at.is_(None)))
        return list(found.scalars())


def _embedder_named(provider: str, data_dir: Path | None) -> Embedder:
    from personae.providers.embeddings import open_embedder

    if provider not in ("minilm", "hashing", "openai"):
        raise ConfigurationError(f"no embedder {provider!r}: minilm, hashing or openai")
    return open_embedder(settings_for(data_dir, embedder=provider))


@embeddings_app.command("migrate")
@one_line_errors
def embeddings_migrate(to: Provider, tenant: TenantOption = None, data_dir: DataDir = None) -> None:
    """Write every live chunk's twin embedded by the target model, while search goes on
    with the current one. Then set PERSONAE_EMBEDDER to it, run this again (it fills in
    what was ingested meanwhile), and `prune`."""
    from personae.db.database import open_database
    from personae.knowledge.migration import migrate

    settings = settings_for(data_dir)
    target = _embedder_named(to, data_dir)

    async def run(sessions: Sessions) -> int:
        total = 0
        with Progress() as progress:
            for tenant_id in await _tenants(sessions, tenant):
                bar = progress.add_task(f"tenant {tenant_id}", total=None)

                def advance(done: Migrated, bar: TaskID = bar) -> None:
                    progress.update(bar, completed=done.written, total=done.written + done.left)

                total += await migrate(sessions, tenant_id, target, on_batch=advance)
        await target.close()
        return total

    with open_database(settings) as urls:
        written = as_app(settings, urls, run)
    typer.echo(f"{written} chunks embedded by {to}")


@embeddings_app.command("status")
@one_line_errors
def embeddings_status(tenant: TenantOption = None, data_dir: DataDir = None) -> None:
    """Live chunks per embedding model, per tenant."""
    from personae.db.database import open_database
    from personae.knowledge.migration import census

    settings = settings_for(data_dir)

    async def run(sessions: Sessions) -> list[str]:
        lines = []
        for tenant_id in await _tenants(sessions, tenant):
            counts = await census(sessions, tenant_id)
            shown = ", ".join(f"{model}: {n}" for model, n in sorted(counts.items()))
            lines.append(f"{tenant_id}  {shown or 'no chunks'}")
        return lines

    with open_database(settings) as urls:
        for line in as_app(settings, urls, run):
            typer.echo(line)


@embeddings_app.command("prune")
@one_line_errors
def embeddings_prune(
    keep: Annotated[str, typer.Option("--keep", help="The model to keep (minilm, …).")],
    tenant: TenantOption = None,
    data_dir: DataDir = None,
) -> None:
    """Delete chunks of other models that have a twin of the kept one."""
    from personae.db.database import open_database
    from personae.knowledge.migration import prune
    from personae.providers.embeddings import label

    settings = settings_for(data_dir)
    kept = label(_embedder_named(keep, data_dir))

    async def run(sessions: Sessions) -> int:
        return sum([await prune(sessions, t, kept) for t in await _tenants(sessions, tenant)])

    with open_database(settings) as urls:
        removed = as_app(settings, urls, run)
    typer.echo(f"{removed} chunks of other models removed; {kept} kept")
