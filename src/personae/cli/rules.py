"""`personae rules import` / `export`: an agent's rules from a YAML or JSON file, put by
name, and back.

The file holds a list of rules, or an object whose `rules` is one (the shape
`GET /v1/agents/{id}/rules/export` gives). Every rule is checked before anything is
written (the errors name the rule and its field); new names are created, known ones
updated where they differ, and the same file imported twice changes nothing."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Annotated, Any, cast

import typer
import yaml
from pydantic import BaseModel

from personae.cli.common import DataDir, Sessions, as_app, one_line_errors, settings_for
from personae.cli.common import tenant_named as tenant_of
from personae.errors import ConfigurationError, PersonaeError

rules_app = typer.Typer(help="An agent's rules.", no_args_is_help=True)


def read_rules(path: Path) -> list[dict[str, Any]]:
    """The rules the file holds, each checked as the API checks it (ConfigurationError
    naming the rule and field at fault)."""
    from pydantic import ValidationError

    from personae.behavior.schemas import RulesImport

    try:
        text = path.read_text()
        loaded = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as wrong:
        raise ConfigurationError(f"{path} cannot be read: {wrong}") from None
    body = {"rules": loaded} if isinstance(loaded, list) else loaded
    try:
        checked = RulesImport.model_validate(body)
    except ValidationError as wrong:
        first = wrong.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigurationError(f"{path}: {where}: {first['msg']}") from None
    return [cast(BaseModel, rule).model_dump(exclude_unset=True) for rule in checked.rules]


@rules_app.command("import")
@one_line_errors
def import_rules(
    path: Annotated[Path, typer.Argument(help="A YAML or JSON file of rules.")],
    agent: Annotated[uuid.UUID, typer.Option("--agent", help="The agent's id.")],
    tenant: Annotated[str, typer.Option("--tenant", help="The tenant's slug or id.")],
    data_dir: DataDir = None,
) -> None:
    """Put an agent's rules by name from a file: the same file twice changes nothing."""
    from personae.agents.service import AGENTS
    from personae.behavior import rules
    from personae.db.database import open_database
    from personae.db.tenancy import tenant_session
    from personae.kernel.principal import Principal
    from personae.providers.embeddings import Embedders
    from personae.tools.catalogue import require_tools

    given = read_rules(path)
    settings = settings_for(data_dir)

    async def run(sessions: Sessions) -> tuple[int, int, int]:
        tenant_id = await tenant_of(sessions, tenant)
        principal = Principal.system(tenant_id)
        embedders = Embedders(settings)
        try:
            async with tenant_session(sessions, tenant_id) as session:
                await AGENTS.get(session, principal, agent)
                for index, rule in enumerate(given):
                    named = (rule.get("action_config") or {}).get("tools") or []
                    fields = {
                        f"rules.{index}.action_config.tools.{i}": n for i, n in enumerate(named)
                    }
                    await require_tools(session, tenant_id, fields)
                counts = await rules.put_all(session, principal, embedders, agent, given)
                await session.commit()
                return counts
        finally:
            await embedders.close()

    try:
        with open_database(settings) as urls:
            created, updated, same = as_app(settings, urls, run)
    except PersonaeError as error:
        field = getattr(error, "field", None)
        raise ConfigurationError(f"{error.detail}" + (f" ({field})" if field else "")) from None
    typer.echo(f"{created} rules created, {updated} updated, {same} unchanged")


@rules_app.command("export")
@one_line_errors
def export_rules(
    agent: Annotated[uuid.UUID, typer.Option("--agent", help="The agent's id.")],
    tenant: Annotated[str, typer.Option("--tenant", help="The tenant's slug or id.")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON rather than YAML.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Print an agent's rules as `import` takes them back (YAML, or JSON)."""
    from pydantic_core import to_jsonable_python

    from personae.agents.service import AGENTS
    from personae.behavior import rules
    from personae.db.database import open_database
    from personae.db.tenancy import tenant_session
    from personae.kernel.principal import Principal

    settings = settings_for(data_dir)

    async def run(sessions: Sessions) -> list[dict[str, Any]]:
        tenant_id = await tenant_of(sessions, tenant)
        principal = Principal.system(tenant_id)
        async with tenant_session(sessions, tenant_id) as session:
            await AGENTS.get(session, principal, agent)
            return await rules.exported(session, principal, agent)

    try:
        with open_database(settings) as urls:
            found = to_jsonable_python(as_app(settings, urls, run))
    except PersonaeError as error:
        raise ConfigurationError(error.detail) from None
    if as_json:
        typer.echo(json.dumps(found, indent=2, ensure_ascii=False))
    else:
        typer.echo(yaml.safe_dump(found, sort_keys=False, allow_unicode=True), nl=False)
