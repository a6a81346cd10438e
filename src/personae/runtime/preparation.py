"""A turn's first steps: retrieval, rule matching and prompt assembly.

Retrieval begins as the run starts, while its start is written (with the conversation so
far read and the persona's chain of models opened, in the start's transaction): the message
is embedded once; memories (as many as acetylcholine says) are searched on one connection
while, on another, document chunks and the tools the persona / agent may use that fit it
are found. Then the rules (the behaviour issue's seam: none match yet), and the prompt:
system prompt (the agent's over the persona's), retrieved context and as much history as
the model's context length allows."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Row, bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from personae.behavior import matching
from personae.behavior.models import RuleFire
from personae.db.tenancy import tenant_session
from personae.errors import PersonaeError
from personae.kernel.principal import Principal
from personae.knowledge import search as knowledge
from personae.memory import search as memory
from personae.personas.modulation import Levels, parameters
from personae.providers.chat import Message, Request, ToolCall
from personae.providers.embeddings import label
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
    rules: list[matching.Match]
    """The agent's rules that may apply, scored, the kept ones marked (and fired)."""


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

    async def apply(session: AsyncSession) -> list[matching.Match]:
        if agent is None:
            return []
        situation = await _situation(session, session_id)
        found = await matching.candidates(
            session, agent.id, text, vector, label(embedder), situation
        )
        marked = matching.select(found, matching.Selection.of(agent.configuration))
        if fire:
            await _fire(session, principal, marked, situation)
        return marked

    async def the_rest(
        session: AsyncSession,
    ) -> tuple[
        list[knowledge.Hit], list[memory.FactHit], list[discovery.Found], list[matching.Match]
    ]:
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
    chunks, facts, tools, rules = rest.result()
    recalled = memory.within_budget(recalling.result(), facts, query.budget_tokens)
    retrieval.end(memories=len(recalled.episodes), facts=len(recalled.facts))
    return Retrieved([retrieval, rag], recalled, chunks, tools, rules)


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
    rules = Step("rule_match")
    applied = [m for m in retrieved.rules if m.kept]
    turn.rules_matched = [m.shown() for m in applied]
    rules.end(candidates=[m.shown() for m in retrieved.rules], kept=len(applied))
    asked = turn.asked
    own = [f.function() for f in found if f.name not in asked.client_functions]
    tools = [*own, *asked.tools]  # a client's function of the same name is the client's
    system = (turn.agent.system_prompt_override if turn.agent else None) or persona.system_prompt
    system = "\n\n".join(
        part
        for part in (
            system,
            instructions(applied, settings.turn_rule_chars),
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
    turn.recorder.commit_soon([*retrieved.steps, rules, assembly])
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


def instructions(applied: list[matching.Match], budget_chars: int) -> str:
    """The kept rules' instructions, highest priority first, as many as `budget_chars`
    holds (a rule's whole instruction or none of it)."""
    lines, used = [], 0
    for match in sorted(applied, key=lambda m: -m.priority):
        said = str(match.action.get("instructions") or "").strip()
        if said and used + len(said) <= budget_chars:
            lines.append(f"- {said}")
            used += len(said)
    return "Rules that apply now:\n" + "\n".join(lines) if lines else ""


SITUATION = text(
    "SELECT s.active_scenario_id, s.current_step_id, "
    "(SELECT count(*) FROM turn_records AS t WHERE t.session_id = s.id) AS turns "
    "FROM sessions AS s WHERE s.id = :session_id"
)


async def _situation(session: AsyncSession, session_id: uuid.UUID) -> matching.Situation:
    """Where the session stands: its scenario and step, and this turn's number."""
    row = (await session.execute(SITUATION, {"session_id": session_id})).one()
    return matching.Situation(
        session_id, row.turns + 1, row.active_scenario_id, row.current_step_id
    )


async def _fire(
    session: AsyncSession,
    principal: Principal,
    marked: list[matching.Match],
    situation: matching.Situation,
) -> None:
    """Count the kept rules' fires (their cooldowns and most fires a session)."""
    assert situation.session_id is not None
    for match in marked:
        if match.kept:
            session.add(
                RuleFire(
                    tenant_id=principal.tenant_id,
                    rule_id=match.rule_id,
                    session_id=situation.session_id,
                    turn_number=situation.turn_number,
                )
            )
    await session.flush()


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
