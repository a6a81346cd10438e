"""`personae ingest`: documents from files and folders, with a progress bar."""

from __future__ import annotations

import uuid
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import Progress, TaskID

from personae.cli.common import (
    DataDir,
    Sessions,
    as_app,
    one_line_errors,
    run_jobs,
    settings_for,
    tenant_named,
)
from personae.db.engine import DatabaseUrls
from personae.errors import ConfigurationError, PersonaeError

if TYPE_CHECKING:
    from personae.knowledge.migration import Migrated
    from personae.providers.embeddings import Embedder, Embedders

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
    from personae.kernel.principal import Principal
    from personae.knowledge.documents import upload
    from personae.knowledge.models import Document

    files = files_under(paths)
    settings = settings_for(data_dir)

    async def run(sessions: Sessions, urls: DatabaseUrls) -> Counter[str]:
        tenant_id = await tenant_named(sessions, tenant)
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
                await run_jobs(sessions, urls, settings, until_idle=True)
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
        return [await tenant_named(sessions, tenant)]
    async with sessions() as session:
        found = await session.execute(select(Tenant.id).where(Tenant.deleted_at.is_(None)))
        return list(found.scalars())


def _embedder_named(embedders: Embedders, provider: str) -> Embedder:
    offered = embedders.providers()
    if provider not in offered:
        raise ConfigurationError(f"no embedder {provider!r} here: {', '.join(offered)}")
    return embedders.get(provider)


@embeddings_app.command("migrate")
@one_line_errors
def embeddings_migrate(to: Provider, tenant: TenantOption = None, data_dir: DataDir = None) -> None:
    """Move tenants to another model: every live chunk and entry gets a vector of it
    while search goes on with the current one, then each tenant switches. `prune` then
    removes the old vectors. (A server does the same with POST /v1/embeddings/switch.)"""
    from personae.db.database import open_database
    from personae.knowledge.migration import switch
    from personae.providers.embeddings import Embedders, label

    settings = settings_for(data_dir)
    embedders = Embedders(settings)
    target = _embedder_named(embedders, to)

    async def run(sessions: Sessions) -> int:
        total = 0
        with Progress() as progress:
            for tenant_id in await _tenants(sessions, tenant):
                bar = progress.add_task(f"tenant {tenant_id}", total=None)

                def advance(done: Migrated, bar: TaskID = bar) -> None:
                    progress.update(bar, completed=done.written, total=done.written + done.left)

                total += await switch(sessions, tenant_id, target, on_batch=advance)
        await embedders.close()
        return total

    with open_database(settings) as urls:
        written = as_app(settings, urls, run)
    typer.echo(f"{written} rows embedded by {label(target)}; the tenants use it now")


@embeddings_app.command("status")
@one_line_errors
def embeddings_status(tenant: TenantOption = None, data_dir: DataDir = None) -> None:
    """Each tenant's model, and its live rows (chunks and entries) per model."""
    from personae.db.database import open_database
    from personae.db.tenancy import tenant_session
    from personae.knowledge.migration import census
    from personae.retrieval.embedding_models import tenant_model

    settings = settings_for(data_dir)

    async def run(sessions: Sessions) -> list[str]:
        lines = []
        for tenant_id in await _tenants(sessions, tenant):
            async with tenant_session(sessions, tenant_id) as session:
                model = await tenant_model(session, tenant_id) or "the default"
                counts = await census(session)
            shown = ", ".join(f"{name}: {n}" for name, n in sorted(counts.items()))
            lines.append(f"{tenant_id}  uses {model}; {shown or 'no rows'}")
        return lines

    with open_database(settings) as urls:
        for line in as_app(settings, urls, run):
            typer.echo(line)


@embeddings_app.command("prune")
@one_line_errors
def embeddings_prune(tenant: TenantOption = None, data_dir: DataDir = None) -> None:
    """Delete rows of other models than each tenant's own that have a twin of it."""
    from personae.db.database import open_database
    from personae.db.tenancy import tenant_session
    from personae.kernel.principal import Principal
    from personae.knowledge.migration import prune
    from personae.providers.embeddings import Embedders, label
    from personae.retrieval.embedding_models import tenant_embedder

    settings = settings_for(data_dir)
    embedders = Embedders(settings)

    async def run(sessions: Sessions) -> int:
        removed = 0
        for tenant_id in await _tenants(sessions, tenant):
            async with tenant_session(sessions, tenant_id) as session:
                kept = label(await tenant_embedder(session, embedders, tenant_id))
                removed += await prune(session, Principal.system(tenant_id), kept)
        return removed

    with open_database(settings) as urls:
        removed = as_app(settings, urls, run)
    typer.echo(f"{removed} rows of other models removed")
