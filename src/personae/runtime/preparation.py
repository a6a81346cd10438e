"""A turn's first steps: retrieval, rule matching and prompt assembly.

Retrieval begins as the run starts, while its start is written (with the conversation so
far read and the persona's chain of models opened, in the start's transaction): the message
is embedded once; memories (as many as acetylcholine says) are searched on one connection
while, on another, document chunks and the tools the persona / agent may use that fit it
are found, and the agent's rules decided (`behaving`). Then the prompt: system prompt (the
agent's over the persona's, with the kept rules' instructions and suggested wordings),
retrieved context and as much history as the model's context length allows."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Row, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from personae.db.tenancy import tenant_session
from personae.errors import PersonaeError
from personae.kernel.principal import Principal
from personae.knowledge import search as knowledge
from personae.memory import search as memory
from personae.personas.modulation import Levels, parameters
from personae.providers.chat import Message, Request, ToolCall
from personae.providers.embeddings import label
from personae.runtime import behaving
from personae.runtime.chat_completions import format_instruction
from personae.runtime.context import Services, Speaker, Turn
from personae.runtime.fallback_chain import FallbackChain
from personae.runtime.prompt import assemble, schema_tokens
from personae.runtime.record import Step
from personae.sessions.models import Message as StoredMessage
from personae.tools import discovery

T = TypeVar("T")
ROLES = ("user", "assistant", "tool")
"""The messages a prompt's history holds."""
HISTORY = 200
"""Messages read back for the prompt (the newest; the context length trims further)."""


@dataclass
class Retrieved:
    """What a turn's prompt is made from, found as its run starts."""

    steps: list[Step]
    """memory_retrieval and rag_retrieval, ended."""
    recalled: memory.Recalled
    chunks: list[knowledge.Hit]
    tools: list[discovery.Found]
    decided: behaving.Decided
    """What the agent's rules decided for the turn."""


async def retrieve(
    services: Services,
    principal: Principal,
    who: Speaker,
    session_id: uuid.UUID,
    text: str,
    *,
    fire: bool = True,
) -> Retrieved:
    """The message embedded once; memories (episodes, then facts: the session's customer's
    alone when it has one), chunks, tools and the agent's rules found, on two connections
    at once (`fire`: count the rules kept as fired; not again for a resumed run)."""
    settings = services.settings
    persona, agent, embedder = who.persona, who.agent, who.embedder
    generation = parameters(Levels.of(persona.neuromodulators))
    [vector] = await embedder.embed([text])
    retrieval, rag = Step("memory_retrieval"), Step("rag_retrieval")

    query = memory.MemoryQuery(
        text,
        k=generation.memory_k,
        persona_id=persona.id,
        customer_profile_id=who.customer_profile_id,
        budget_tokens=settings.turn_memory_tokens,
        facts=3,
    )
    search = memory.ready(principal, query, embedder, vector)

    async def recall(session: AsyncSession) -> list[memory.EpisodeHit]:
        return await memory.episodes(session, search)

    async def read(session: AsyncSession) -> list[knowledge.Hit]:
        request = knowledge.Request(text, k=settings.turn_chunks)
        found = await knowledge.search(session, principal, embedder, request, vector=vector)
        rag.end(chunks=[str(h.chunk_id) for h in found])
        return found

    async def offer(session: AsyncSession) -> list[discovery.Found]:
        return await discovery.search(
            session,
            principal,
            services.embedders,
            text,
            k=settings.turn_tools,
            persona_id=persona.id,
            agent_id=agent.id if agent else None,
            vector=vector,
            embedder=embedder,
            persona_live=True,  # found so as the run started
        )

    async def apply(session: AsyncSession) -> behaving.Decided:
        return await behaving.decide(
            session,
            principal,
            agent,
            session_id,
            text,
            vector,
            label(embedder),
            who.customer_profile_id,
            fire=fire,
        )

    async def the_rest(
        session: AsyncSession,
    ) -> tuple[list[knowledge.Hit], list[memory.FactHit], list[discovery.Found], behaving.Decided]:
        return (
            await read(session),
            await memory.facts(session, search),
            await offer(session),
            await apply(session),
        )

    # the episodes (the longest search) on a connection of its own, the rest meanwhile on
    # another: more connections would cost more round trips than they save waiting
    # (one failing stops the other before the run fails: none writes after it ended)
    try:
        async with asyncio.TaskGroup() as group:
            recalling = group.create_task(_apart(services, principal, recall, search=True))
            rest = group.create_task(_apart(services, principal, the_rest, search=True))
    except ExceptionGroup as failed:
        raise failed.exceptions[0] from None
    chunks, facts, tools, decided = rest.result()
    recalled = memory.within_budget(recalling.result(), facts, query.budget_tokens)
    retrieval.end(memories=len(recalled.episodes), facts=len(recalled.facts))
    return Retrieved([retrieval, rag], recalled, chunks, tools, decided)


async def prepare(turn: Turn) -> tuple[list[Message], Request, FallbackChain]:
    """Retrieval (begun as the run started), rules, prompt assembly (their steps
    recorded); the chain to call."""
    settings, persona = turn.services.settings, turn.persona
    retrieved = await turn.retrieved
    assembly = Step("prompt_assembly")
    recalled, chunks, found = retrieved.recalled, retrieved.chunks, retrieved.tools
    memories = [e.content for e in recalled.episodes] + [
        f.fact or f"{f.subject} {f.relation} {f.object}" for f in recalled.facts
    ]
    decided = retrieved.decided
    settled = await behaving.settle(turn, decided)
    turn.rules_matched = [m.shown() for m in decided.behaviour.kept]
    turn.scenario_state = decided.steered.state or None
    ruled, rules = behaving.prompt_parts(decided, settings.turn_rule_chars)
    asked = turn.asked
    if decided.behaviour.only_rule_tools:
        found = decided.tools
    else:
        found = [*found, *(f for f in decided.tools if f.name not in {t.name for t in found})]
    own = [f.function() for f in found if f.name not in asked.client_functions]
    tools = [*own, *asked.tools]  # a client's function of the same name is the client's
    system = (turn.agent.system_prompt_override if turn.agent else None) or persona.system_prompt
    system = "\n\n".join(
        part
        for part in (
            system,
            *ruled,
            asked.instructions,
            format_instruction(asked.response_format),
        )
        if part
    )
    chain = turn.chain
    if isinstance(chain, PersonaeError):
        raise chain
    context_length = chain.links[0].context_length if chain.links else None
    earlier, this_turn = _this_turn(turn)
    answer_tokens = min(
        settings.turn_answer_tokens, asked.max_tokens or settings.turn_answer_tokens
    )
    prompt = assemble(
        system,
        [*memories, *(h.text for h in chunks)],
        earlier,
        this_turn,
        context_length=context_length,
        answer_tokens=answer_tokens,
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
    turn.recorder.commit_soon(
        [*retrieved.steps, rules, *settled, assembly], behaving.moves(decided)
    )
    request = Request(
        tools=tools,
        max_tokens=answer_tokens,
        parameters={
            **parameters(Levels.of(persona.neuromodulators)).sampling(),
            **asked.parameters,
        },
        tool_choice=asked.tool_choice,
        parallel_tool_calls=asked.parallel_tool_calls,
        response_format=asked.response_format,
    )
    return prompt.messages, request, chain


def _this_turn(turn: Turn) -> tuple[list[Message], list[Message]]:
    """The conversation before this turn, and this turn's own messages: the user's, and,
    for a resumed run, the calls since and their results."""
    if not turn.resumed:
        return turn.history, [Message("user", turn.text, images=turn.asked.images)]
    asked = max((i for i, m in enumerate(turn.history) if m.role == "user"), default=0)
    return turn.history[:asked], turn.history[asked:]


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


NEWEST_MESSAGES = (
    select(
        StoredMessage.role,
        StoredMessage.content,
        StoredMessage.tool_calls,
        StoredMessage.tool_call_id,
    )
    .where(StoredMessage.session_id == bindparam("session_id"))
    .order_by(StoredMessage.seq.desc())
    .limit(HISTORY)
)


async def history(session: AsyncSession, session_id: uuid.UUID) -> list[Message]:
    """The conversation's newest messages (at most `HISTORY`), oldest first: users',
    assistants' and tools' only."""
    rows = await session.execute(NEWEST_MESSAGES, {"session_id": session_id})
    return [_as_message(row) for row in reversed(rows.all()) if row.role in ROLES]


def _as_message(stored: Row[Any]) -> Message:
    calls = tuple(
        ToolCall(str(c["id"]), str(c["name"]), json.dumps(c.get("arguments", {})))
        for c in stored.tool_calls or ()
    )
    return Message(stored.role, stored.content, tool_calls=calls, tool_call_id=stored.tool_call_id)
