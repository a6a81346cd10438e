"""Capsules: packages of tools and prompt templates with a manifest, installed per tenant.

A manifest names the capsule, its semantic version and author, its tools (python or
http, as a tenant's own), its prompt templates (with declared variables) and the capsules
it depends on, each with a version constraint (`semver`). Installing a set resolves it
against what is installed (`capsule_plan`): a missing or conflicting dependency, a cycle,
or an upgrade that would break an installed capsule's constraint is refused (409, saying
which); a valid set installs in dependency order. Uninstalling is refused while another
installed capsule depends on it. Capsules come in manifests sent to the API or from the
plugins installed with Personae (`register_capsules`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import Field, JsonValue, ValidationError
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from personae.db import locks
from personae.errors import Conflict, NotFound, ValidationFailed
from personae.kernel.audit.service import record
from personae.kernel.principal import Principal
from personae.kernel.resources import Resource
from personae.tools.capsule_plan import Package, dependents, install_order
from personae.tools.catalogue import ensure_builtins
from personae.tools.functions import NAME, check_schema
from personae.tools.http_calls import check_endpoint
from personae.tools.models import Capsule, CapsuleDependency, PromptTemplate, Tool
from personae.tools.plugins import offered_capsules
from personae.tools.semver import constraint, parse
from personae.tools.templates import check_template
from personae.validation import Input

CAPSULE_NAME = r"^[a-z0-9][a-z0-9._-]{0,99}$"
OBJECT: dict[str, JsonValue] = {"type": "object"}


class ManifestTool(Input):
    name: str = Field(pattern=NAME.pattern)
    description: str = Field(min_length=1, max_length=10_000)
    parameters: dict[str, JsonValue] = Field(default_factory=lambda: dict(OBJECT))
    """The arguments' JSON Schema (an object)."""
    code_type: Literal["python", "http"]
    code: str | None = Field(default=None, max_length=200_000)
    endpoint: str | None = Field(default=None, max_length=2000)
    category: str | None = Field(default=None, max_length=100)
    settings: dict[str, JsonValue] = Field(default_factory=dict)
    requires_approval: bool = False


class ManifestTemplate(Input):
    name: str = Field(min_length=1, max_length=255)
    content: str = Field(min_length=1, max_length=100_000)
    variables: list[str] = Field(default_factory=list, max_length=100)


class Manifest(Input):
    name: str = Field(pattern=CAPSULE_NAME)
    version: str = Field(max_length=50)
    author: str | None = Field(default=None, max_length=255)
    description: str | None = Field(default=None, max_length=10_000)
    category: str | None = Field(default=None, max_length=100)
    tools: list[ManifestTool] = Field(default_factory=list, max_length=100)
    prompt_templates: list[ManifestTemplate] = Field(default_factory=list, max_length=100)
    dependencies: dict[str, str] = Field(default_factory=dict, max_length=50)
    """Capsule name -> version constraint (`^1.2`, `>=1 <2`, `*`)."""


CAPSULES = Resource(Capsule, "capsule", "tools")
"""Listing and reading capsules; installing and uninstalling go through this module."""


def package(manifest: Manifest, field: str) -> Package:
    """The manifest as resolution sees it, every part checked (422 naming it)."""
    requires = {
        name: constraint(text, f"{field}.dependencies.{name}")
        for name, text in manifest.dependencies.items()
    }
    for index, tool in enumerate(manifest.tools):
        where = f"{field}.tools.{index}"
        check_schema(tool.parameters, f"{where}.parameters")
        if tool.code_type == "python" and not tool.code:
            raise ValidationFailed("a python tool needs its code", field=f"{where}.code")
        if tool.code_type == "http":
            try:
                check_endpoint(tool.endpoint)
            except ValidationFailed as error:
                raise ValidationFailed(error.detail, field=f"{where}.endpoint") from None
    for index, template in enumerate(manifest.prompt_templates):
        check_template(template.content, template.variables, f"{field}.prompt_templates.{index}")
    return Package(manifest.name, parse(manifest.version, f"{field}.version"), requires)


def offered() -> dict[str, Manifest]:
    """The capsules the installed plugins offer, by name (a malformed one is left out)."""
    found: dict[str, Manifest] = {}
    for raw in offered_capsules():
        try:
            manifest = Manifest.model_validate(raw)
        except ValidationError:
            continue
        found[manifest.name] = manifest
    return found


async def install(
    session: AsyncSession, principal: Principal, manifests: Sequence[Manifest]
) -> list[Capsule]:
    """Install (or upgrade to) `manifests` together; the capsules in the order installed."""
    principal.require("tools:create")
    await locks.hold(session, f"capsules:{principal.tenant_id}")
    await ensure_builtins(session, principal.tenant_id)
    wanted = [package(m, f"manifests.{i}") for i, m in enumerate(manifests)]
    rows = {row.name: row for row in await _capsules(session)}
    installed = {
        name: package(Manifest.model_validate(row.manifest), name)
        for name, row in rows.items()
        if row.installed
    }
    by_name = {m.name: m for m in manifests}
    done = []
    for step in install_order(installed, wanted):
        row = rows.get(step.name)
        before = row.version if row is not None and row.installed else None
        row = await _write(session, principal, by_name[step.name], row)
        rows[step.name] = row
        await _link_dependencies(session, row, by_name[step.name], rows)
        await record(
            session,
            principal,
            "install",
            "capsule",
            row.id,
            data={
                "name": row.name,
                "version": row.version,
                "from_version": before,
                "tools": [t.name for t in by_name[step.name].tools],
            },
        )
        done.append(row)
    return done


async def uninstall(session: AsyncSession, principal: Principal, capsule_id: uuid.UUID) -> Capsule:
    """Uninstall the capsule: its tools and templates go; refused while another installed
    capsule depends on it."""
    principal.require("tools:delete")
    await locks.hold(session, f"capsules:{principal.tenant_id}")
    rows = {row.id: row for row in await _capsules(session)}
    row = rows.get(capsule_id)
    if row is None:
        raise NotFound("no such capsule")
    if not row.installed:
        raise Conflict(f"{row.name} is not installed")
    installed = {
        r.name: package(Manifest.model_validate(r.manifest), r.name)
        for r in rows.values()
        if r.installed
    }
    needing = dependents(installed, row.name)
    if needing:
        raise Conflict(f"{row.name} is needed by {', '.join(needing)}: uninstall them first")
    await session.execute(
        update(Tool)
        .where(Tool.capsule_id == row.id, Tool.deleted_at.is_(None))
        .values(deleted_at=_now())
    )
    await session.execute(delete(PromptTemplate).where(PromptTemplate.capsule_id == row.id))
    row.installed = False
    await session.flush()
    await session.refresh(row)
    await record(session, principal, "uninstall", "capsule", row.id, data={"name": row.name})
    return row


async def _capsules(session: AsyncSession) -> list[Capsule]:
    return list((await session.execute(select(Capsule))).scalars())


async def _write(
    session: AsyncSession, principal: Principal, manifest: Manifest, row: Capsule | None
) -> Capsule:
    """The capsule's row, tools and templates as the manifest has them."""
    if row is None:
        row = Capsule(tenant_id=principal.tenant_id, name=manifest.name, version=manifest.version)
        session.add(row)
    row.version, row.author = manifest.version, manifest.author
    row.description, row.category = manifest.description, manifest.category
    row.manifest = manifest.model_dump(mode="json")
    row.installed = True
    await session.flush()
    await _write_tools(session, principal, manifest, row)
    await session.execute(delete(PromptTemplate).where(PromptTemplate.capsule_id == row.id))
    session.add_all(
        PromptTemplate(
            tenant_id=principal.tenant_id,
            capsule_id=row.id,
            template_name=t.name,
            template_content=t.content,
            variables=t.variables,
        )
        for t in manifest.prompt_templates
    )
    await session.flush()
    await session.refresh(row)
    return row


async def _write_tools(
    session: AsyncSession, principal: Principal, manifest: Manifest, row: Capsule
) -> None:
    live = await session.execute(select(Tool).where(Tool.deleted_at.is_(None)))
    by_name = {tool.name: tool for tool in live.scalars()}
    wanted = {t.name for t in manifest.tools}
    for old in by_name.values():
        if old.capsule_id == row.id and old.name not in wanted:
            old.deleted_at = _now()
    for spec in manifest.tools:
        values: dict[str, Any] = {
            "description": spec.description,
            "schema": spec.parameters,
            "code_type": spec.code_type,
            "code": spec.code,
            "endpoint": spec.endpoint,
            "category": spec.category,
            "settings": spec.settings,
            "requires_approval": spec.requires_approval,
        }
        tool = by_name.get(spec.name)
        if tool is None:
            session.add(
                Tool(
                    tenant_id=principal.tenant_id,
                    name=spec.name,
                    capsule_id=row.id,
                    created_by=principal.user_id,
                    **values,
                )
            )
        elif tool.capsule_id == row.id:
            if tool.description != spec.description:
                tool.description_embedding = None
            for key, value in values.items():
                setattr(tool, key, value)
        else:
            owner = "a built-in" if tool.is_builtin else "another tool"
            raise Conflict(f"{manifest.name} brings a tool named {spec.name}, the name of {owner}")
    await session.flush()


async def _link_dependencies(
    session: AsyncSession, row: Capsule, manifest: Manifest, rows: dict[str, Capsule]
) -> None:
    await session.execute(delete(CapsuleDependency).where(CapsuleDependency.capsule_id == row.id))
    session.add_all(
        CapsuleDependency(
            tenant_id=row.tenant_id,
            capsule_id=row.id,
            depends_on_name=name,
            depends_on_id=rows[name].id,
            version_constraint=text,
        )
        for name, text in manifest.dependencies.items()
    )
    await session.flush()


def _now() -> datetime:
    return datetime.now(UTC)
