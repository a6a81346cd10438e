"""Finding the tools for a task: the tenant's enabled tools nearest to the task by their
description embeddings, among those the caller's persona and agent may use, so that only
the chosen few schemas go into a prompt."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from sqlalchemy import ARRAY, ColumnElement, Select, String, Uuid, any_, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from personae.db.tenancy import search_effort
from personae.db.types import EMBEDDING_DIMS, Vector
from personae.kernel.principal import Principal
from personae.providers.embeddings import Embedder, Embedders, label
from personae.retrieval.embedding_models import QueryVector, tenant_embedder
from personae.tools.catalogue import embed_descriptions, ensure_builtins
from personae.tools.models import Tool
from personae.tools.permissions import GRANTED_TOOL_IDS, permits


@dataclass(frozen=True)
class Found:
    id: uuid.UUID
    name: str
    description: str
    schema: dict[str, Any]
    """The parameters, as the tool's OpenAI function schema holds them."""
    score: float
    """Cosine similarity of the task and the description, -1 to 1."""

    def function(self) -> dict[str, Any]:
        """As the OpenAI `tools` parameter lists it."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.schema,
            },
        }


async def search(
    session: AsyncSession,
    principal: Principal,
    embedders: Embedders,
    task: str,
    *,
    k: int = 5,
    persona_id: uuid.UUID | None = None,
    agent_id: uuid.UUID | None = None,
    vector: Sequence[float] | None = None,
    embedder: Embedder | None = None,
    ef_search: int | None = None,
    persona_live: bool = False,
) -> list[Found]:
    """The `k` tools best matching `task` that the persona / agent may use (best first).
    `vector`, `embedder`: the task's embedding and the tenant's embedder when the caller
    has them already; `ef_search`: HNSW candidates, unless the transaction has its own;
    `persona_live`: the caller has found the persona live (then, for the persona alone,
    its grants are read in the search's own statement)."""
    principal.require("tools:read")
    # the task is embedded (in a thread) while the database answers who may use what
    embedding = QueryVector(embedders, task) if vector is None else None
    try:
        # no model lock: rows carry the model of their vector, and only those of the
        # tenant's current model are searched (after a switch, the next search embeds
        # them again)
        if ef_search is not None:
            await search_effort(session, ef_search)
        embedder = embedder or await tenant_embedder(session, embedders, principal.tenant_id)
        await ensure_builtins(session, principal.tenant_id)
        granted = persona_live and persona_id is not None and agent_id is None
        allowed = None if granted else await permits(session, persona_id, agent_id)
        if embedding is not None:
            vector = await embedding.by(embedder)
    finally:
        if embedding is not None:
            embedding.cancel()
    assert vector is not None
    params: dict[str, Any] = {"vector": vector, "model": label(embedder), "k": k}
    if allowed is None:
        query, params["persona_id"] = _nearest("granted"), persona_id
    elif allowed.tool_ids is None:
        query = _nearest("any")
    else:
        query, params["tool_ids"] = _nearest("listed"), list(allowed.tool_ids)
    rows = (await session.execute(query, params)).all()
    if not rows or rows[0][-1]:
        await embed_descriptions(session, principal.tenant_id, embedder)
        rows = (await session.execute(query, params)).all()
    # iterative index scans may return rows slightly out of order: sort what came
    ordered = sorted(rows, key=lambda r: float(r.distance))
    return [Found(r.id, r.name, r.description, r.schema, 1 - r.distance) for r in ordered]


async def named(
    session: AsyncSession,
    principal: Principal,
    names: Sequence[str],
    *,
    persona_id: uuid.UUID | None = None,
    agent_id: uuid.UUID | None = None,
) -> list[Found]:
    """The enabled tools of `names` that the persona / agent may use, in the order named
    (a name it may not use, or no tool has, is left out)."""
    principal.require("tools:read")
    if not names:
        return []
    await ensure_builtins(session, principal.tenant_id)
    allowed = await permits(session, persona_id, agent_id)
    found = await session.execute(
        select(Tool).where(Tool.name.in_(list(names)), Tool.enabled, Tool.deleted_at.is_(None))
    )
    tools = {t.name: t for t in found.scalars() if allowed.allows(t.id)}
    return [
        Found(tools[n].id, n, tools[n].description, tools[n].schema, 1.0)
        for n in names
        if n in tools
    ]


@lru_cache(maxsize=3)
def _nearest(among: Literal["any", "listed", "granted"]) -> Select[Any]:
    """The `k` enabled tools nearest to `vector` among those embedded with `model` (and
    among `tool_ids` if `listed`, the enabled grants of `persona_id` if `granted`), each
    with the count of tools still to embed: they are embedded then and the search made
    again (after a new tool, or a model switch). Built once per shape."""
    query_vector = bindparam("vector", type_=Vector(EMBEDDING_DIMS))
    distance = Tool.description_embedding.cosine_distance(query_vector).label("distance")
    model = bindparam("model", type_=String)
    live: list[ColumnElement[bool]] = [Tool.deleted_at.is_(None)]
    if among == "listed":
        live.append(Tool.id == any_(bindparam("tool_ids", type_=ARRAY(Uuid))))
    elif among == "granted":
        live.append(Tool.id.in_(GRANTED_TOOL_IDS))
    unembedded = (
        select(func.count())
        .where(
            *live,
            Tool.description_embedding.is_(None) | Tool.embedding_model.is_distinct_from(model),
        )
        .scalar_subquery()
    )
    return (
        select(Tool.id, Tool.name, Tool.description, Tool.schema, distance, unembedded)
        .where(*live, Tool.enabled, Tool.embedding_model == model)
        .order_by(distance)  # by the label: the vector is sent once
        .limit(bindparam("k"))
    )
