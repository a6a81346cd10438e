"""`personae rules import` / `export` and `personae scenarios import` / `export`: an
agent's rules or scenarios from a YAML or JSON file, put by name, and back.

The file holds a list, or an object whose `rules` (`scenarios`) is one (the shape
`GET /v1/agents/{id}/rules/export` gives). Every item is checked before anything is
written (the errors name the item and its field); new names are created, known ones
updated where they differ (a scenario's steps or entry: a new version), and the same file
imported twice changes nothing."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
import yaml

from personae.cli.common import DataDir, Sessions, as_app, one_line_errors, settings_for
from personae.cli.common import tenant_named as tenant_of
from personae.errors import ConfigurationError, PersonaeError

if TYPE_CHECKING:  # the CLI imports the domain lazily, as a command runs
    from sqlalchemy.ext.asyncio import AsyncSession

    from personae.kernel.principal import Principal
    from personae.providers.embeddings import Embedders


@dataclass(frozen=True)
class Kind:
    """What an agent's file holds: its key, how each item is checked and put, and the
    tools an item names (checked against the tenant's)."""

    key: str
    """What the file's object holds them under, and what they are called."""
    schema: Callable[[], Any]
    put_all: Callable[[], Callable[..., Awaitable[tuple[int, int, int]]]]
    exported: Callable[[], Callable[..., Awaitable[list[dict[str, Any]]]]]
    tools: Callable[[Mapping[str, Any], str], dict[str, str]]


def _rule_tools(values: Mapping[str, Any], prefix: str) -> dict[str, str]:
    from personae.behavior.actions import attached_tools

    return attached_tools(values, prefix)


def _step_tools(values: Mapping[str, Any], prefix: str) -> dict[str, str]:
    from personae.behavior.scenarios import step_tools

    return {prefix + field: tool for field, tool in step_tools(values).items()}


def _rules_module() -> Any:
    from personae.behavior import rules

    return rules


def _scenarios_module() -> Any:
    from personae.behavior import scenarios

    return scenarios


def _schemas() -> Any:
    from personae.behavior import schemas

    return schemas


RULES = Kind(
    "rules",
    lambda: _schemas().RulesImport,
    lambda: _rules_module().put_all,
    lambda: _rules_module().exported,
    _rule_tools,
)
SCENARIOS = Kind(
    "scenarios",
    lambda: _schemas().ScenariosImport,
    lambda: _scenarios_module().put_all,
    lambda: _scenarios_module().exported,
    _step_tools,
)


def read_items(kind: Kind, path: Path) -> list[dict[str, Any]]:
    """The items the file holds, each checked as the API checks it (ConfigurationError
    naming the item and field at fault)."""
    from pydantic import ValidationError

    try:
        text = path.read_text()
        loaded = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as wrong:
        raise ConfigurationError(f"{path} cannot be read: {wrong}") from None
    body = {kind.key: loaded} if isinstance(loaded, list) else loaded
    try:
        checked = kind.schema().model_validate(body)
    except ValidationError as wrong:
        first = wrong.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigurationError(f"{path}: {where}: {first['msg']}") from None
    return [item.model_dump(exclude_unset=True) for item in getattr(checked, kind.key)]


def typer_app(kind: Kind) -> typer.Typer:
    """`import` and `export` of an agent's `kind`."""
    app = typer.Typer(help=f"An agent's {kind.key}.", no_args_is_help=True)

    @app.command(
        "import",
        help=f"Put an agent's {kind.key} by name from a file: the same file twice changes nothing.",
    )
    @one_line_errors
    def import_items(
        path: Annotated[Path, typer.Argument(help="A YAML or JSON file.")],
        agent: Annotated[uuid.UUID, typer.Option("--agent", help="The agent's id.")],
        tenant: Annotated[str, typer.Option("--tenant", help="The tenant's slug or id.")],
        data_dir: DataDir = None,
    ) -> None:
        given = read_items(kind, path)
        settings = settings_for(data_dir)

        async def put(
            session: AsyncSession, principal: Principal, embedders: Embedders
        ) -> tuple[int, int, int]:
            from personae.tools.catalogue import require_tools

            for index, item in enumerate(given):
                fields = kind.tools(item, f"{kind.key}.{index}.")
                if fields:
                    await require_tools(session, principal.tenant_id, fields)
            return await kind.put_all()(session, principal, embedders, agent, given)

        created, updated, same = _as_agent(settings, tenant, agent, put)
        typer.echo(f"{created} {kind.key} created, {updated} updated, {same} unchanged")

    @app.command(
        "export", help=f"Print an agent's {kind.key} as `import` takes them back (YAML, or JSON)."
    )
    @one_line_errors
    def export_items(
        agent: Annotated[uuid.UUID, typer.Option("--agent", help="The agent's id.")],
        tenant: Annotated[str, typer.Option("--tenant", help="The tenant's slug or id.")],
        as_json: Annotated[bool, typer.Option("--json", help="JSON rather than YAML.")] = False,
        data_dir: DataDir = None,
    ) -> None:
        from pydantic_core import to_jsonable_python

        async def read(
            session: AsyncSession, principal: Principal, embedders: Embedders
        ) -> list[dict[str, Any]]:
            return await kind.exported()(session, principal, agent)

        found = to_jsonable_python(_as_agent(settings_for(data_dir), tenant, agent, read))
        if as_json:
            typer.echo(json.dumps(found, indent=2, ensure_ascii=False))
        else:
            typer.echo(yaml.safe_dump(found, sort_keys=False, allow_unicode=True), nl=False)

    return app


def _as_agent(
    settings: Any,
    tenant: str,
    agent: uuid.UUID,
    work: Callable[[AsyncSession, Principal, Embedders], Awaitable[Any]],
) -> Any:
    """`work` in one committed transaction of the tenant, as the system, the agent found
    first (errors as one line naming the field)."""
    from personae.agents.service import AGENTS
    from personae.db.database import open_database
    from personae.db.tenancy import tenant_session
    from personae.kernel.principal import Principal
    from personae.providers.embeddings import Embedders

    async def run(sessions: Sessions) -> Any:
        tenant_id = await tenant_of(sessions, tenant)
        principal = Principal.system(tenant_id)
        embedders = Embedders(settings)
        try:
            async with tenant_session(sessions, tenant_id) as session:
                await AGENTS.get(session, principal, agent)
                done = await work(session, principal, embedders)
                await session.commit()
                return done
        finally:
            await embedders.close()

    try:
        with open_database(settings) as urls:
            return as_app(settings, urls, run)
    except PersonaeError as error:
        field = getattr(error, "field", None)
        raise ConfigurationError(f"{error.detail}" + (f" ({field})" if field else "")) from None


rules_app = typer_app(RULES)
scenarios_app = typer_app(SCENARIOS)
