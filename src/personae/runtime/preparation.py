"""A turn's first steps: retrieval, rule matching and prompt assembly.

The message is embedded once; memories (as many as acetylcholine says), document chunks,
and the tools the persona / agent may use that fit it are found at once, each search on a
connection of its own, while a fourth opens the persona's chain of models and reads the
conversation so far. Then the rules (the behaviour issue's seam: none match yet), and
the prompt: system prompt (the agent's over the persona's), retrieved context and as much
history as the model's context length allows."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from personae.db.tenancy import tenant_session
from personae.identity.principal import Principal
from personae.knowledge import search as knowledge
from personae.memory import search as memory
from personae.providers.chat import Message, Request, ToolCall
from personae.runtime.context import Services, Turn
from personae.runtime.modulation import Levels, parameters
from personae.runtime.prompt import assemble, schema_tokens
from personae.runtime.providers import Chain, open_chain
from personae.runtime.record import Step
from personae.sessions.models import Message as StoredMessage
from personae.tools import discovery

T = TypeVar("T")
HISTORY = 200
"""Messages read back for the prompt (the newest; the context length trims further)."""


async def prepare(turn: Turn) -> tuple[list[Message], Request, Chain]:
    """Retrieval, rules, prompt assembly (their steps recorded); the chain opened."""
    services, principal, persona = turn.services, turn.principal, turn.persona
    settings = services.settings
    levels = Levels.of(persona.neuromodulators)
    generation = parameters(levels)
    embedder = turn.embedder
    [vector] = await embedder.embed([turn.text])
    retrieval, rag, assembly = (
        Step("memory_retrieval"),
        Step("rag_retrieval"),
        Step("prompt_assembly"),
    )

    async def recall(session: AsyncSession) -> memory.Recalled:
        query = memory.MemoryQuery(
            turn.text,
            k=generation.memory_k,
            persona_id=persona.id,
            budget_tokens=settings.turn_memory_tokens,
            facts=3,
        )
        found = await memory.search(
            session, principal, services.embedders, query, vector=vector, embedder=embedder
        )
        retrieval.end(memories=len(found.episodes), facts=len(found.facts))
        return found

    async def read(session: AsyncSession) -> list[knowledge.Hit]:
        request = knowledge.Request(turn.text, k=settings.turn_chunks)
        found = await knowledge.search(session, principal, embedder, request, vector=vector)
        rag.end(chunks=[str(h.chunk_id) for h in found])
        return found

    async def offer(session: AsyncSession) -> list[discovery.Found]:
        return await discovery.search(
            session,
            principal,
            services.embedders,
            turn.text,
            k=settings.turn_tools,
            persona_id=persona.id,
            agent_id=turn.agent.id if turn.agent else None,
            vector=vector,
            embedder=embedder,
        )

    async def setting_up(session: AsyncSession) -> tuple[Chain, list[Message]]:
        chain = await open_chain(
            session,
            services.vault,
            services.limiter,
            services.clients,
            persona,
            turn.agent,
            timeout_s=settings.turn_model_timeout_s,
        )
        return chain, await _history(session, turn.session_id)

    # the three searches and the model's setup at once, each on a connection of its own
    # (one failing stops the others before the run fails: none writes after it ended)
    try:
        async with asyncio.TaskGroup() as group:
            recalling = group.create_task(_apart(services, principal, recall, search=True))
            reading = group.create_task(_apart(services, principal, read, search=True))
            offering = group.create_task(_apart(services, principal, offer, search=True))
            setting = group.create_task(_apart(services, principal, setting_up))
    except ExceptionGroup as failed:
        raise failed.exceptions[0] from None
    recalled, chunks, found = recalling.result(), reading.result(), offering.result()
    chain, history = setting.result()
    memories = [e.content for e in recalled.episodes] + [
        f.fact or f"{f.subject} {f.relation} {f.object}" for f in recalled.facts
    ]
    rules = Step("rule_match")
    rules.end(matched=[])  # the behaviour issue's seam
    tools = [f.function() for f in found]
    system = (turn.agent.system_prompt_override if turn.agent else None) or persona.system_prompt
    context_length = chain.links[0].context_length if chain.links else None
    prompt = assemble(
        system,
        [*memories, *(h.text for h in chunks)],
        history,
        turn.text,
        context_length=context_length,
        answer_tokens=settings.turn_answer_tokens,
        tool_tokens=schema_tokens(tools),
    )
    assembly.end(
        tokens=prompt.tokens,
        budget=prompt.budget,
        history_kept=prompt.history_kept,
        history_dropped=prompt.history_dropped,
        context_kept=prompt.context_kept,
        tools=[f.name for f in found],
    )
    turn.recorder.commit_soon([retrieval, rag, rules, assembly])
    request = Request(
        tools=tools, max_tokens=settings.turn_answer_tokens, parameters=generation.sampling()
    )
    return prompt.messages, request, chain


async def _apart(
    services: Services,
    principal: Principal,
    work: Callable[[AsyncSession], Awaitable[T]],
    *,
    search: bool = False,
) -> T:
    """`work` in a transaction (and on a connection) of its own; a `search` with the
    turn's HNSW effort (`turn_search_ef`)."""
    ef_search = services.settings.turn_search_ef if search else None
    async with tenant_session(
        services.sessions, principal.tenant_id, ef_search=ef_search
    ) as session:
        return await work(session)


async def _history(session: AsyncSession, session_id: uuid.UUID) -> list[Message]:
    """The conversation before this turn's message, oldest first."""
    rows = await session.execute(
        select(StoredMessage)
        .where(StoredMessage.session_id == session_id)
        .order_by(StoredMessage.seq.desc())
        .limit(HISTORY + 1)
    )
    found = list(rows.scalars())[1:]  # the newest is this turn's own message
    found.reverse()
    return [_as_message(m) for m in found if m.role in ("user", "assistant", "tool")]


def _as_message(stored: StoredMessage) -> Message:
    calls = tuple(
        ToolCall(str(c["id"]), str(c["name"]), json.dumps(c.get("arguments", {})))
        for c in stored.tool_calls or ()
    )
    return Message(stored.role, stored.content, tool_calls=calls, tool_call_id=stored.tool_call_id)  # type: ignore[arg-type]
