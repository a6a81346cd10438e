"""A tenant's tool rows kept current: the built-ins, and the description embeddings.

Built-in tools are defined in code (Personae's and its plugins'), and each tenant holds a
row for every one (`is_builtin`), so that permissions, activations and discovery treat all
tools alike. The rows are written on first use in each process and rewritten when the code
changes a description or schema; a tenant's own tool of the same name keeps its row.
Descriptions are embedded on demand, with the tenant's model: a new or changed tool, or
every tool after a model switch, is embedded by the next search that needs it."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import case, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from personae.db.tenancy import bind_tenant
from personae.errors import NotFound, ValidationFailed
from personae.providers.embeddings import Embedder, label
from personae.tools.models import Tool
from personae.tools.plugins import registered_tools

log = logging.getLogger(__name__)
EMBED_BATCH = 256
LOCK_TIMEOUT = "2s"
_current: set[tuple[uuid.UUID, str]] = set()
"""(tenant, signature of the built-ins) already written by this process."""


@lru_cache(maxsize=1)
def _builtins_code() -> tuple[list[tuple[str, str, dict[str, Any]]], str]:
    """The installed built-ins (name, description, schema) and their digest: the same for
    the process's life, so computed once, off the path of every call."""
    code = [(t.name, t.description, t.parameters) for t in registered_tools().values()]
    return code, hashlib.sha256(json.dumps(code, sort_keys=True).encode()).hexdigest()


async def ensure_builtins(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    """Write the tenant's built-in rows unless this process already has, for this code.

    They are written in a short transaction of their own (committed whatever becomes of
    the caller's), which gives up after `LOCK_TIMEOUT` rather than wait on the caller's."""
    code, signature = _builtins_code()
    key = (tenant_id, signature)
    if key in _current or not code:
        return
    rows = [
        {
            "tenant_id": tenant_id,
            "name": name,
            "description": description,
            "schema": schema,
            "code_type": "builtin",
            "is_builtin": True,
        }
        for name, description, schema in code
    ]
    new = insert(Tool).values(rows)
    upsert = new.on_conflict_do_update(
        index_elements=["tenant_id", "name"],
        index_where=Tool.deleted_at.is_(None),
        set_={
            "schema": new.excluded.schema,
            "description": new.excluded.description,
            "description_embedding": case(
                (Tool.description == new.excluded.description, Tool.description_embedding),
                else_=None,
            ),
        },
        where=Tool.is_builtin.is_(True),  # a tenant's own tool of that name stays its own
    )
    names = [name for name, _, _ in code]
    gone = Tool.is_builtin.is_(True) & Tool.deleted_at.is_(None) & Tool.name.not_in(names)
    try:
        own_session = AsyncSession(session.bind, sync_session_class=type(session.sync_session))
        async with own_session as own, own.begin():
            await bind_tenant(own, tenant_id)
            await own.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
            await own.execute(upsert)
            await own.execute(update(Tool).where(gone).values(enabled=False))
    except DBAPIError as error:  # a row held by the caller's own transaction: next time
        log.warning("built-in tools not written for tenant %s: %s", tenant_id, error.orig)
        return
    _current.add(key)


async def tool_named(session: AsyncSession, tenant_id: uuid.UUID, name: str) -> Tool:
    """The tenant's live tool called `name`, built-in or its own (404 if none)."""
    await ensure_builtins(session, tenant_id)
    found = await session.execute(
        select(Tool).where(Tool.name == name, Tool.deleted_at.is_(None)).limit(1)
    )
    tool = found.scalar_one_or_none()
    if tool is None:
        raise NotFound(f"no tool named {name!r}")
    return tool


async def tools_named(session: AsyncSession, names: Sequence[str]) -> dict[str, list[uuid.UUID]]:
    """The live tools each of `names` (a tool's id or name) stands for, in one query; a
    name that stands for none maps to []."""
    if not names:
        return {}
    ids = {name: _as_uuid(name) for name in names}
    match = or_(Tool.name.in_(names), Tool.id.in_([i for i in ids.values() if i is not None]))
    found = (
        await session.execute(select(Tool.id, Tool.name).where(match, Tool.deleted_at.is_(None)))
    ).all()
    return {
        name: [row.id for row in found if row.name == name or row.id == ids[name]] for name in names
    }


async def require_tools(
    session: AsyncSession, tenant_id: uuid.UUID, fields: Mapping[str, str]
) -> None:
    """Refuse (422, naming the field) a value of `fields` that is no live tool's id or
    name (the tenant's built-ins among them)."""
    await ensure_builtins(session, tenant_id)
    named = await tools_named(session, list(fields.values()))
    for field_name, name in fields.items():
        if not named[name]:
            raise ValidationFailed(f"no tool with the id or name {name!r}", field=field_name)


def _as_uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def embedded_text(name: str, description: str) -> str:
    return f"{name.replace('_', ' ').replace('-', ' ')}: {description}"


async def embed_descriptions(
    session: AsyncSession, tenant_id: uuid.UUID, embedder: Embedder
) -> int:
    """Embed the tenant's tools whose description has no vector of `embedder`'s model yet;
    how many. Each vector is stored with its model, so no model lock is needed."""
    await ensure_builtins(session, tenant_id)
    model, done = label(embedder), 0
    while True:
        stale = await session.execute(
            select(Tool.id, Tool.name, Tool.description)
            .where(
                Tool.deleted_at.is_(None),
                Tool.description_embedding.is_(None) | Tool.embedding_model.is_distinct_from(model),
            )
            .limit(EMBED_BATCH)
        )
        rows = stale.all()
        if not rows:
            return done
        vectors = await embedder.embed([embedded_text(r.name, r.description) for r in rows])
        await session.execute(
            update(Tool),
            [
                {
                    "id": r.id,
                    "tenant_id": tenant_id,
                    "description_embedding": v,
                    "embedding_model": model,
                }
                for r, v in zip(rows, vectors, strict=True)
            ],
        )
        done += len(rows)
