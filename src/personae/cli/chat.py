"""`personae chat PERSONA`: talk to a persona in the terminal, its answers streamed as its
model writes them (any configured provider: OpenAI, a local Ollama, vLLM…)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated

import typer

from personae.cli.common import (
    DataDir,
    Sessions,
    as_app,
    one_line_errors,
    settings_for,
    tenant_named,
)
from personae.settings import Settings

PROMPT = "you> "


@one_line_errors
def chat(
    persona: Annotated[str, typer.Argument(help="The persona's (or an agent's) name.")],
    tenant: Annotated[str, typer.Option("--tenant", help="The tenant's slug or id.")],
    session: Annotated[
        uuid.UUID | None, typer.Option("--session", help="Continue this session.")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Chat with a persona: type a message, read the answer as it streams; an empty line
    or Ctrl-D ends, Ctrl-C stops an answer."""
    from personae.db.database import open_database

    settings = settings_for(data_dir)
    with open_database(settings) as urls:
        as_app(
            settings, urls, lambda sessions: _converse(sessions, settings, tenant, persona, session)
        )


async def _converse(
    sessions: Sessions,
    settings: Settings,
    tenant: str,
    name: str,
    session_id: uuid.UUID | None,
) -> None:
    from personae.cache import open_cache
    from personae.db.tenancy import tenant_session
    from personae.kernel.principal import Principal
    from personae.providers.embeddings import Embedders
    from personae.runtime.fallback_chain import Limiter
    from personae.runtime.front_door import speaker
    from personae.runtime.turn import Runtime, run_turn, start_run
    from personae.sessions.service import SESSIONS
    from personae.tools.execution import ToolRunner
    from personae.vault.keyring import resolve_master_key
    from personae.vault.service import Vault

    tenant_id = await tenant_named(sessions, tenant)
    principal = Principal.system(tenant_id)
    embedders = Embedders(settings)
    rates = open_cache(settings, "model-rate:*")
    runtime = Runtime(
        sessions,
        embedders,
        Vault(resolve_master_key(settings, embedded=settings.database_url is None)),
        Limiter(
            rates, window_s=settings.model_rate_window_s, max_wait_s=settings.model_rate_max_wait_s
        ),
        ToolRunner(settings, embedders),
        settings,
    )
    try:
        async with tenant_session(sessions, tenant_id) as session:
            who = await speaker(session, name)
            if session_id is None:
                values = {
                    "persona_id": who.persona.id,
                    "agent_id": who.agent.id if who.agent else None,
                    "channel": "cli",
                }
                session_id = (await SESSIONS.create(session, principal, values)).id
        typer.secho(f"{who.persona.name} (session {session_id})", dim=True)
        while True:
            try:
                line = (await asyncio.to_thread(input, PROMPT)).strip()
            except EOFError:
                break
            if not line:
                break
            turn = await start_run(runtime, principal, session_id, line)
            try:
                async for emitted in run_turn(runtime, turn, stream=True):
                    if emitted.event == "token":
                        typer.echo(emitted.data["text"], nl=False)
                    elif emitted.event == "tool.called":
                        typer.secho(f"[{emitted.data['name']}] ", dim=True, nl=False)
                    elif emitted.event == "run.failed":
                        typer.secho(f"(no answer: {emitted.data['error']})", fg="red", nl=False)
                    elif emitted.event == "run.cancelled":
                        typer.secho(" (stopped)", dim=True, nl=False)
            except KeyboardInterrupt:  # pragma: no cover - interactive
                runtime.cancel(turn.run_id)
            typer.echo()
    finally:
        await runtime.close()
        await runtime.tools.close()
        await rates.close()
        await embedders.close()
