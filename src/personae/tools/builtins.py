"""The tools that ship with Personae, registered through the plugin hook like any other.

Each is a plain function: its docstring is what the model reads, its signature the schema.
Those that read the tenant's data act as the caller (`ToolContext`), with its permissions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field
from sqlalchemy import select

from personae.errors import ValidationFailed
from personae.knowledge import search as knowledge
from personae.memory import search as memory
from personae.plugins import hookimpl
from personae.retrieval.embedding_models import tenant_embedder
from personae.sessions.models import Message
from personae.sessions.service import SESSIONS
from personae.tools.calculator import evaluate
from personae.tools.functions import ToolContext
from personae.tools.plugins import Register

MAX_RESULTS = 50
Count = Annotated[int, Field(ge=1, le=MAX_RESULTS)]


def current_time(timezone: str = "UTC") -> str:
    """The current date and time (ISO 8601) in a time zone, by its IANA name
    (Europe/Paris, America/New_York; UTC by default)."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed("no such time zone", field="arguments.timezone") from None
    return datetime.now(zone).isoformat(timespec="seconds")


def calculator(expression: str) -> float | int:
    """The value of an arithmetic expression: + - * / // % **, parentheses, sqrt, abs,
    round, min, max, log, exp, sin, cos, tan, pi and e."""
    return evaluate(expression)


async def memory_search(context: ToolContext, query: str, k: Count = 5) -> list[dict[str, Any]]:
    """What long-term memory holds about a question: the best matching memories (turns,
    notes, summaries, events) with when they happened."""
    recalled = await memory.search(
        context.session,
        context.principal,
        context.embedders,
        memory.MemoryQuery(query, k=k, facts=0),
    )
    return [
        {"content": e.content, "occurred_at": e.occurred_at.isoformat(), "type": e.episode_type}
        for e in recalled.episodes
    ]


async def knowledge_search(context: ToolContext, query: str, k: Count = 5) -> list[dict[str, Any]]:
    """Passages of the documents you may read that best answer a question, with the
    document each comes from."""
    embedder = await tenant_embedder(
        context.session, context.embedders, context.principal.tenant_id
    )
    hits = await knowledge.search(
        context.session, context.principal, embedder, knowledge.Request(query, k=k)
    )
    return [{"document": h.document_name, "text": h.text} for h in hits]


async def session_history(
    context: ToolContext, session_id: uuid.UUID, limit: Count = 20
) -> list[dict[str, Any]]:
    """The latest messages of a conversation, oldest first: who said what, and when."""
    await SESSIONS.get(context.session, context.principal, session_id)
    found = await context.session.execute(
        select(Message.role, Message.content, Message.created_at)
        .where(Message.session_id == session_id)
        .order_by(Message.seq.desc())
        .limit(limit)
    )
    rows = list(found)[::-1]
    return [{"role": r.role, "content": r.content, "at": r.created_at.isoformat()} for r in rows]


BUILTINS = (current_time, calculator, memory_search, knowledge_search, session_history)


@hookimpl
def register_tools(register: Register) -> None:
    for function in BUILTINS:
        register(function)
