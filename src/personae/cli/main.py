"""`personae`: serve the API, manage the database, print the version.

Configuration errors print one line naming the problem and the fix, and exit with 2."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import signal
import subprocess
import sys
import uuid
from types import FrameType
from typing import Annotated

import typer
from sqlalchemy.engine import make_url

from personae import __version__
from personae.cli import chat, history, knowledge, users
from personae.cli.common import (
    DataDir,
    Sessions,
    as_app,
    one_line_errors,
    run_jobs,
    settings_for,
)
from personae.cli.rules import rules_app, scenarios_app
from personae.errors import ConfigurationError
from personae.settings import Settings
from personae.startup import prepare_database

app = typer.Typer(help="Personae: a backend for persona-based AI agents.", no_args_is_help=True)
db_app = typer.Typer(help="Database migrations and access.", no_args_is_help=True)
app.add_typer(db_app, name="db")
tenant_app = typer.Typer(help="Tenants.", no_args_is_help=True)
app.add_typer(tenant_app, name="tenant")
auth_app = typer.Typer(help="Sign-in sessions.", no_args_is_help=True)
app.add_typer(auth_app, name="auth")
identity_app = typer.Typer(help="External identities of users.", no_args_is_help=True)
app.add_typer(identity_app, name="identity")
sessions_app = typer.Typer(help="Conversations.", no_args_is_help=True)
app.add_typer(sessions_app, name="sessions")
vault_app = typer.Typer(help="The secrets vault: master keys and rotation.", no_args_is_help=True)
app.add_typer(vault_app, name="vault")
app.add_typer(rules_app, name="rules")
app.add_typer(scenarios_app, name="scenarios")
app.command("ingest")(knowledge.ingest)
app.command("import-history")(history.import_history)
app.command("chat")(chat.chat)
app.add_typer(knowledge.embeddings_app, name="embeddings")
app.add_typer(users.users_app, name="user")


@app.command()
@one_line_errors
def version() -> None:
    """Print the version."""
    typer.echo(f"personae {__version__}")


@app.command()
@one_line_errors
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Start the HTTP API (embedded PostgreSQL unless PERSONAE_DATABASE_URL is set)."""
    import uvicorn

    from personae.api.app import begin_stopping, create_app
    from personae.db import migrate
    from personae.db.database import open_database
    from personae.vault.keyring import resolve_master_key

    settings = settings_for(data_dir, host=host, port=port)
    # SIGTERM stops like Ctrl-C: requests drain, then the database (embedded) stops too
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    with open_database(settings) as urls:
        master = resolve_master_key(settings, embedded=settings.database_url is None)
        migrate.upgrade(urls.owner)
        asyncio.run(prepare_database(urls.owner, master))
        _warn_about_isolation(settings)  # once configuration errors (one line each) are past
        api = create_app(settings, urls, master_key=master)

        class Server(uvicorn.Server):
            def handle_exit(self, sig: int, frame: FrameType | None) -> None:
                super().handle_exit(sig, frame)
                begin_stopping(api)

        config = uvicorn.Config(
            api,
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level,
            timeout_graceful_shutdown=math.ceil(settings.shutdown_grace_s),
            proxy_headers=bool(settings.trusted_proxies),  # else X-Forwarded-For is ignored
            forwarded_allow_ips=settings.trusted_proxies or None,
        )
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: stopped, as asked
            Server(config).run()  # it raises the signal that stopped it again, once stopped


def _exit_on_sigterm(_signal: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)  # unwinds through `open_database`, which stops the embedded server


def _warn_about_isolation(settings: Settings) -> None:
    """Say it loudly when this installation does not isolate what it should."""
    from personae.tools.sandbox import Sandbox, SandboxUnavailable

    def warn(text: str) -> None:
        typer.secho(f"WARNING: {text}", fg=typer.colors.RED, bold=True, err=True)

    if os.geteuid() == 0:
        warn("personae serve runs as root: run it as an ordinary user (docs/security.md)")
    if settings.tool_sandbox == "process":
        warn(
            "PERSONAE_TOOL_SANDBOX=process: python tools are NOT isolated by the operating "
            "system; a tenant's tool can read this server's secrets and other tenants' data. "
            "For a single-user installation only (docs/security.md)."
        )
        return
    try:
        Sandbox(settings).check()
    except SandboxUnavailable as error:
        warn(f"python tools will be refused: {error}")


@db_app.command("upgrade")
@one_line_errors
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
    data_dir: DataDir = None,
) -> None:
    """Apply migrations up to REVISION (default: head)."""
    from personae.db import migrate
    from personae.db.database import open_database

    with open_database(settings_for(data_dir)) as urls:
        migrate.upgrade(urls.owner, revision)
    typer.echo(f"upgraded to {revision}")


@db_app.command("downgrade")
@one_line_errors
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision, or 'base'.")],
    data_dir: DataDir = None,
) -> None:
    """Revert migrations down to REVISION."""
    from personae.db import migrate
    from personae.db.database import open_database

    with open_database(settings_for(data_dir)) as urls:
        migrate.downgrade(urls.owner, revision)
    typer.echo(f"downgraded to {revision}")


@db_app.command("current")
@one_line_errors
def db_current(data_dir: DataDir = None) -> None:
    """Print the revision the database is at, and the code's head."""
    from sqlalchemy.ext.asyncio import create_async_engine

    from personae.db import migrate
    from personae.db.database import open_database, schema_revision

    async def current(url: str) -> str | None:
        engine = create_async_engine(url)
        try:
            return await schema_revision(engine)
        finally:
            await engine.dispose()

    with open_database(settings_for(data_dir)) as urls:
        revision = asyncio.run(current(urls.owner))
    head = migrate.head()
    state = "up to date" if revision == head else "migrations pending"
    typer.echo(f"{revision or 'base'} (head {head}, {state})")


@db_app.command("history")
@one_line_errors
def db_history() -> None:
    """List the migrations, newest first."""
    from personae.db import migrate

    for revision, message in migrate.history():
        typer.echo(f"{revision}  {message.splitlines()[0] if message else ''}")


@db_app.command("shell")
@one_line_errors
def db_shell(data_dir: DataDir = None) -> None:
    """Open psql on the database (as the owner)."""
    from personae.db.database import open_database
    from personae.db.embedded import EmbeddedPostgres

    settings = settings_for(data_dir)
    with open_database(settings) as urls:
        url = make_url(urls.owner)
        psql = EmbeddedPostgres.psql_binary()
        env = dict(os.environ)
        if url.password:
            env["PGPASSWORD"] = url.password
        host = url.host or str(url.query.get("host", ""))
        args = [psql, "-h", host, "-U", url.username or "", "-d", url.database or ""]
        if url.port:
            args += ["-p", str(url.port)]
        code = subprocess.call(args, env=env)  # noqa: S603 - our own psql binary
    sys.exit(code)


@tenant_app.command("create")
@one_line_errors
def tenant_create(
    name: Annotated[str, typer.Argument(help="The tenant's name.")],
    owner_email: Annotated[str, typer.Option("--owner-email", help="The first owner.")],
    data_dir: DataDir = None,
) -> None:
    """Create a tenant and its first owner; prints the owner's one-time credentials."""
    from personae.db import migrate
    from personae.db.database import open_database
    from personae.errors import ValidationFailed
    from personae.identity.service import TenantCreated, create_tenant
    from personae.vault.keyring import resolve_master_key

    settings = settings_for(data_dir)

    async def create(sessions: Sessions) -> TenantCreated:
        async with sessions() as session, session.begin():
            return await create_tenant(session, name, owner_email)

    with open_database(settings) as urls:
        master = resolve_master_key(settings, embedded=settings.database_url is None)
        migrate.upgrade(urls.owner)
        asyncio.run(prepare_database(urls.owner, master))
        try:
            created = as_app(settings, urls, create)
        except ValidationFailed as exc:
            raise ConfigurationError(f"{exc.field}: {exc.detail}") from None
    typer.echo(f"tenant:   {created.tenant.name} ({created.tenant.slug}, {created.tenant.id})")
    typer.echo(f"owner:    {created.owner.email}")
    if created.one_time_password:
        typer.echo(f"password: {created.one_time_password}")
        typer.echo("(shown once: sign in and change it with POST /v1/me/password)")
    else:
        typer.echo("password: unchanged (the owner already has an account)")


@app.command()
@one_line_errors
def worker(data_dir: DataDir = None) -> None:
    """Run a job worker on its own (`serve` runs one too unless PERSONAE_WORKER=false)."""
    from personae.db.database import open_database

    settings = settings_for(data_dir)
    with open_database(settings) as urls:
        as_app(
            settings, urls, lambda sessions: run_jobs(sessions, urls, settings, until_idle=False)
        )


@sessions_app.command("rebuild")
@one_line_errors
def sessions_rebuild(
    session: Annotated[
        uuid.UUID | None, typer.Option("--session", help="Only this session (else all).")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Recompute messages, turn records and envelopes from the event logs."""
    from personae.db.database import open_database
    from personae.sessions.log import rebuild_all

    settings = settings_for(data_dir)
    with open_database(settings) as urls:
        count = as_app(settings, urls, lambda sessions: rebuild_all(sessions, session))
    typer.echo(f"rebuilt {count} sessions")


@identity_app.command("link")
@one_line_errors
def identity_link(
    email: Annotated[str, typer.Argument(help="The user's email.")],
    provider: Annotated[str, typer.Option("--provider", help="e.g. google, github, telegram.")],
    subject: Annotated[str, typer.Option("--subject", help="The user's id at the provider.")],
    data_dir: DataDir = None,
) -> None:
    """Link an external identity (provider + subject) to a user, in every tenant of theirs."""
    from personae.db.database import open_database
    from personae.errors import PersonaeError
    from personae.identity.external import link

    settings = settings_for(data_dir)

    async def run(sessions: Sessions) -> uuid.UUID:
        async with sessions() as session, session.begin():
            return (await link(session, email, provider, subject)).id

    with open_database(settings) as urls:
        try:
            identity_id = as_app(settings, urls, run)
        except PersonaeError as exc:
            raise ConfigurationError(exc.detail) from None
    typer.echo(f"linked {provider}:{subject} to {email} ({identity_id})")


@auth_app.command("cleanup")
@one_line_errors
def auth_cleanup(data_dir: DataDir = None) -> None:
    """Delete sign-in sessions that expired or were revoked over a day ago."""
    from personae.db.database import open_database
    from personae.identity.auth import delete_expired_sessions

    settings = settings_for(data_dir)
    with open_database(settings) as urls:
        deleted = as_app(settings, urls, delete_expired_sessions)
    typer.echo(f"deleted {deleted} expired sign-in sessions")


@vault_app.command("keygen")
def vault_keygen() -> None:
    """Print a new random master key (for PERSONAE_MASTER_KEY)."""
    from personae.vault.crypto import encode_key, new_key

    typer.echo(encode_key(new_key()))


@vault_app.command("rotate")
@one_line_errors
def vault_rotate(data_dir: DataDir = None) -> None:
    """Add a data key and re-seal every secret under it, tenant by tenant, while serving."""
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    from personae.db.database import open_database
    from personae.vault.keyring import ensure_data_key, resolve_master_key
    from personae.vault.service import RotationReport, rotate

    settings = settings_for(data_dir)

    async def run(owner_url: str, master: bytes) -> RotationReport:
        engine = create_async_engine(owner_url, poolclass=NullPool)
        try:
            async with engine.begin() as conn:
                await ensure_data_key(conn, master)
            return await rotate(engine, master)
        finally:
            await engine.dispose()

    with open_database(settings) as urls:
        master = resolve_master_key(settings, embedded=settings.database_url is None)
        report = asyncio.run(run(urls.owner, master))
    typer.echo(
        f"vault key v{report.version}: re-sealed {report.rewrapped} secrets "
        f"in {report.tenants} tenants"
    )
    if report.unreadable:
        typer.echo(f"{len(report.unreadable)} secrets did not open and were left as they are:")
        for secret_id in report.unreadable:
            typer.echo(f"  {secret_id}")
        raise typer.Exit(1)


if __name__ == "__main__":  # pragma: no cover
    app()
