"""One turn: a user's message in, the persona's answer out, every step recorded.

`run_turn` appends the user's message and starts a run (`trace_id` `run-<uuid>`, status
running), then, each step a `run_steps` row and a `run.step` session event with its
duration:

1. retrieval: the message is embedded once; memories (as many as acetylcholine says),
   document chunks, and the tools the persona / agent may use that fit it are found at
   once, each search on a connection of its own;
2. rule matching: the seam where the behaviour issue's rules will plug in (none match yet);
3. prompt assembly: system prompt (the agent's over the persona's), retrieved context and
   as much history as the model's context length allows (`prompt`);
4. the model call, through the persona's chain of models (`providers`), with the
   generation parameters its neuromodulators set (`modulation`), streamed or whole;
5. tool calls: each through the tool runner, as the persona / agent (a tool it may not use
   is refused and the model told so; one that requires approval waits for an approver's
   decision, up to `turn_approval_wait_s`), then the model again, at most
   `max_tool_iterations` times;
6. the assistant's message, the turn record (`turn.completed`), the run completed with
   its usage, the neuromodulators decayed one turn toward their baseline.

Starting a run is audited (who asked what, with its trace id); how it ended is in the
run, its steps and the session's events. Memory work (episodes, extraction, summaries)
follows the messages through the outbox:
enqueued with them, never awaited. No transaction is open while a model answers. A failure
(every model down, a refusal) fails the run with a `run.failed` event and writes no answer;
a cancelled run stops its model's stream and ends `cancelled`, likewise without one.

What happens is also yielded (`Emitted`) as it happens, for the caller to stream."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from personae.audit.service import record
from personae.db.tenancy import tenant_session
from personae.errors import Conflict, PersonaeError, ProviderError, ProviderUnavailable
from personae.identity.principal import Principal
from personae.knowledge import search as knowledge
from personae.knowledge.embedding_models import tenant_embedder
from personae.memory import search as memory
from personae.personas.models import Agent, Persona
from personae.providers.chat import Completion, Message, Request, ToolCall
from personae.providers.embeddings import Embedder, Embedders
from personae.runtime.modulation import Levels, adaptation, decayed, parameters
from personae.runtime.prompt import assemble, schema_tokens
from personae.runtime.providers import Chain, Clients, Limiter, open_chain
from personae.runtime.record import Recorder, Step, usage_total
from personae.sessions import log
from personae.sessions.models import Message as StoredMessage
from personae.sessions.models import Run, TurnRecord
from personae.sessions.service import SESSIONS
from personae.settings import Settings
from personae.tools import discovery
from personae.tools.execution import Call, ToolRunner
from personae.tools.models import ToolExecution
from personae.vault.service import Vault

log_ = logging.getLogger(__name__)
T = TypeVar("T")
WAITING = ("pending", "awaiting_approval", "running")
HISTORY = 200
"""Messages read back for the prompt (the newest; the context length trims further)."""


@dataclass(frozen=True)
class Emitted:
    event: str
    """run.started, token, tool.called, tool.result, message, run.completed, run.failed,
    run.cancelled."""
    data: dict[str, Any]


@dataclass
class Runtime:
    """What turns need from the server process."""

    sessions: async_sessionmaker[AsyncSession]
    embedders: Embedders
    vault: Vault
    limiter: Limiter
    tools: ToolRunner
    settings: Settings
    clients: Clients = field(default_factory=Clients)
    cancels: dict[uuid.UUID, asyncio.Event] = field(default_factory=dict)
    """The runs of this process that may be cancelled, by id."""
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def cancel(self, run_id: uuid.UUID) -> bool:
        """Stop the run if this process runs it; whether it did."""
        stop = self.cancels.get(run_id)
        if stop is not None:
            stop.set()
        return stop is not None

    def launch(
        self, principal: Principal, run: Run, *, stream: bool
    ) -> asyncio.Queue[Emitted | None]:
        """Carry the run through in a task of its own (it goes on if its caller leaves);
        what happens arrives in the queue, then None."""
        queue: asyncio.Queue[Emitted | None] = asyncio.Queue()
        self.cancels.setdefault(run.id, asyncio.Event())

        async def carry() -> None:
            try:
                async for emitted in run_turn(self, principal, run, stream=stream):
                    queue.put_nowait(emitted)
            finally:
                queue.put_nowait(None)

        task = asyncio.create_task(carry(), name=f"run-{run.id}")
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return queue

    async def close(self) -> None:
        """Cancel the runs still going (at shutdown)."""
        for stop in self.cancels.values():
            stop.set()
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=5)
        await self.clients.close()


async def ending(queue: asyncio.Queue[Emitted | None]) -> Emitted | None:
    """The last thing a launched run emits (how it ended), once it has ended."""
    last = None
    while (emitted := await queue.get()) is not None:
        last = emitted
    return last


@dataclass
class _Turn:
    runtime: Runtime
    principal: Principal
    session_id: uuid.UUID
    text: str
    run_id: uuid.UUID
    trace_id: str
    persona: Persona
    agent: Agent | None
    recorder: Recorder
    started: float
    embedder: Embedder
    usages: list[dict[str, Any]] = field(default_factory=list)
    executed: list[dict[str, Any]] = field(default_factory=list)


async def start_run(
    runtime: Runtime, principal: Principal, session_id: uuid.UUID, text: str
) -> Run:
    """Append the user's message and start its run (committed); the run."""
    principal.require("sessions:update")
    async with tenant_session(runtime.sessions, principal.tenant_id) as session:
        state = await SESSIONS.get(session, principal, session_id, action="update")
        if state.persona_id is None:
            raise Conflict("the session has no persona: set its persona_id first")
        run_id = uuid.uuid4()
        run = Run(
            id=run_id,
            tenant_id=principal.tenant_id,
            persona_id=state.persona_id,
            agent_id=state.agent_id,
            session_id=session_id,
            user_id=principal.user_id,
            trace_id=f"run-{run_id}",
            status="running",
            input=text,
            started_at=datetime.now(UTC),
        )
        session.add(run)
        await session.flush()
        trace = run.trace_id
        await log.append(
            session,
            principal,
            session_id,
            [
                log.NewEvent("message.user", {"content": text}, 1, trace),
                log.NewEvent("run.started", {"run_id": str(run_id), "trace_id": trace}, 1, trace),
            ],
            system=True,  # checked above; audited as the run's start
        )
        await record(session, principal, "start", "run", run_id, data={"trace_id": trace})
        return run


async def run_turn(
    runtime: Runtime, principal: Principal, run: Run, *, stream: bool
) -> AsyncIterator[Emitted]:
    """Carry the started `run` through; what happens, as it happens."""
    assert run.session_id is not None and run.persona_id is not None
    stop = runtime.cancels.setdefault(run.id, asyncio.Event())
    yield Emitted("run.started", {"run_id": str(run.id), "trace_id": run.trace_id})
    turn = None
    try:
        turn = await _load(runtime, principal, run)
        async for emitted in _carry(turn, stream, stop):
            yield emitted
    except Exception:  # a bug or the database gone: the run must not stay "running"
        log_.exception("run %s broke", run.id)
        reason = "the run broke on an internal error"
        if turn is not None:
            yield await _fail(turn, reason)
        else:
            async with tenant_session(runtime.sessions, principal.tenant_id) as session:
                await _close_run(session, principal, run.id, "failed", error=reason)
            yield Emitted("run.failed", {"run_id": str(run.id), "error": reason})
    finally:
        runtime.cancels.pop(run.id, None)


async def _load(runtime: Runtime, principal: Principal, run: Run) -> _Turn:
    async with tenant_session(runtime.sessions, principal.tenant_id) as session:
        persona = (
            await session.execute(select(Persona).where(Persona.id == run.persona_id))
        ).scalar_one()
        agent = None
        if run.agent_id is not None:
            agent = (
                await session.execute(select(Agent).where(Agent.id == run.agent_id))
            ).scalar_one_or_none()
        embedder = await tenant_embedder(session, runtime.embedders, principal.tenant_id)
    assert run.session_id is not None
    recorder = Recorder(runtime.sessions, principal, run.session_id, run.id, run.trace_id)
    return _Turn(
        runtime,
        principal,
        run.session_id,
        run.input,
        run.id,
        run.trace_id,
        persona,
        agent,
        recorder,
        time.perf_counter(),
        embedder,
    )


async def _carry(turn: _Turn, stream: bool, stop: asyncio.Event) -> AsyncIterator[Emitted]:
    runtime = turn.runtime
    try:
        messages, request, chain = await _prepare(turn)
    except PersonaeError as failed:
        yield await _fail(turn, failed.detail)
        return
    try:
        for iteration in range(runtime.settings.turn_max_tool_iterations + 1):
            step = Step("llm_call", input={"iteration": iteration + 1})
            completion: Completion | None = None
            chain.attempts.clear()
            if stream:
                async for item in _stream(chain, messages, request, stop):
                    if isinstance(item, Completion):
                        completion = item
                    else:
                        yield Emitted("token", {"text": item})
            else:
                completion = await chain.complete(messages, request)
            if completion is None:  # cancelled mid-stream
                yield await _end_cancelled(turn, chain, step)
                return
            turn.usages.append(completion.usage())
            step.end(
                attempts=[a.__dict__ for a in chain.attempts],
                usage=completion.usage(),
                parameters=dict(request.parameters),
                neuromodulators=Levels.of(turn.persona.neuromodulators).stored(),
                tool_calls=len(completion.tool_calls),
            )
            final = (
                not completion.tool_calls or iteration == runtime.settings.turn_max_tool_iterations
            )
            if final:
                yield await _finish(turn, completion.text, step)
                return
            results = []
            async for emitted, answered in _call_tools(turn, completion, step, stop):
                yield emitted
                if answered is not None:
                    results.append(answered)
            calls = completion.tool_calls
            messages = [
                *messages,
                Message("assistant", completion.text, tool_calls=calls),
                *results,
            ]
            if stop.is_set():
                yield await _end_cancelled(turn, chain, None)
                return
    except (ProviderUnavailable, ProviderError) as failed:
        yield await _fail(turn, failed.detail, chain)


async def _stream(
    chain: Chain, messages: Sequence[Message], request: Request, stop: asyncio.Event
) -> AsyncIterator[str | Completion]:
    """The chain's stream until it ends or `stop` is set (then the provider's stream is
    closed: the model stops producing)."""
    pieces = chain.stream(messages, request)
    try:
        async for item in pieces:
            if stop.is_set():
                return
            yield item
    finally:
        await pieces.aclose()


async def _prepare(turn: _Turn) -> tuple[list[Message], Request, Chain]:
    """Retrieval, rules, prompt assembly (their steps recorded); the chain opened."""
    runtime, principal, persona = turn.runtime, turn.principal, turn.persona
    settings = runtime.settings
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
        found = await memory.search(session, principal, runtime.embedders, query, vector=vector)
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
            runtime.embedders,
            turn.text,
            k=settings.turn_tools,
            persona_id=persona.id,
            agent_id=turn.agent.id if turn.agent else None,
            vector=vector,
        )

    # the three searches at once, each on a connection of its own
    recalled, chunks, found = await asyncio.gather(
        _apart(runtime, principal, recall),
        _apart(runtime, principal, read),
        _apart(runtime, principal, offer),
    )
    memories = [e.content for e in recalled.episodes] + [
        f.fact or f"{f.subject} {f.relation} {f.object}" for f in recalled.facts
    ]
    rules = Step("rule_match")
    rules.end(matched=[])  # the behaviour issue's seam
    async with tenant_session(runtime.sessions, principal.tenant_id) as session:
        tools = [f.function() for f in found]
        chain = await open_chain(
            session,
            runtime.vault,
            runtime.limiter,
            runtime.clients,
            persona,
            turn.agent,
            timeout_s=settings.turn_model_timeout_s,
        )
        history = await _history(session, turn.session_id)
        system = (
            turn.agent.system_prompt_override if turn.agent else None
        ) or persona.system_prompt
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
        await turn.recorder.write(session, [retrieval, rag, rules, assembly])
    request = Request(
        tools=tools, max_tokens=settings.turn_answer_tokens, parameters=generation.sampling()
    )
    return prompt.messages, request, chain


async def _apart(
    runtime: Runtime, principal: Principal, work: Callable[[AsyncSession], Awaitable[T]]
) -> T:
    """`work` in a transaction (and on a connection) of its own."""
    async with tenant_session(runtime.sessions, principal.tenant_id) as session:
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


async def _call_tools(
    turn: _Turn, completion: Completion, llm_step: Step, stop: asyncio.Event
) -> AsyncIterator[tuple[Emitted, Message | None]]:
    """Run each call the model asked for, as the persona / agent; each answer as a tool
    message for the model (a refusal or failure said plainly)."""
    runtime, principal = turn.runtime, turn.principal
    recorder = turn.recorder
    asked = [
        {"id": c.id, "name": c.name, "arguments": _arguments(c.arguments)}
        for c in completion.tool_calls
    ]
    await recorder.commit(
        [llm_step],
        [recorder.event("message.assistant", content=completion.text, tool_calls=asked)],
    )
    for call, spec in zip(completion.tool_calls, asked, strict=True):
        step = Step("tool_call", input={"name": call.name, "arguments": spec["arguments"]})
        yield Emitted("tool.called", dict(spec)), None
        async with tenant_session(runtime.sessions, principal.tenant_id) as session:
            outcome = await _execute(turn, session, call.name, spec["arguments"])
        if outcome["status"] == "awaiting_approval":  # the run waits for the decision
            yield Emitted("tool.awaiting_approval", {"id": call.id, **outcome}), None
            outcome = await _decided(turn, outcome["execution_id"], stop)
        async with tenant_session(runtime.sessions, principal.tenant_id) as session:
            step.tool_id = outcome.pop("tool_id", None)
            step.end(**outcome)
            answer = json.dumps(step.detail, default=str)[: runtime.settings.tool_output_bytes]
            await recorder.write(
                session,
                [step],
                [
                    recorder.event(
                        "tool.called",
                        tool_call_id=call.id,
                        name=call.name,
                        arguments=spec["arguments"],
                    ),
                    recorder.event(
                        "tool.result",
                        tool_call_id=call.id,
                        result=step.detail.get("result"),
                        error=step.detail.get("error"),
                    ),
                    recorder.event(
                        "message.tool", content=answer, tool_call_id=call.id, name=call.name
                    ),
                ],
            )
        turn.executed.append({"name": call.name, "status": step.detail["status"]})
        yield (
            Emitted("tool.result", {"id": call.id, **step.detail}),
            Message("tool", answer, tool_call_id=call.id),
        )


def _arguments(text: str) -> Any:
    try:
        parsed = json.loads(text or "{}")
    except json.JSONDecodeError:
        return {"_unparsed": text}
    return parsed if isinstance(parsed, dict) else {"_unparsed": text}


async def _execute(
    turn: _Turn, session: AsyncSession, name: str, arguments: dict[str, Any]
) -> dict[str, Any]:
    if "_unparsed" in arguments:
        return {"status": "failed", "error": "the arguments are not a JSON object"}
    call = Call(
        persona_id=turn.persona.id,
        agent_id=turn.agent.id if turn.agent else None,
        session_id=turn.session_id,
        run_id=turn.run_id,
        trace_id=turn.trace_id,
    )
    try:
        execution = await turn.runtime.tools.execute(session, turn.principal, name, arguments, call)
    except PersonaeError as refused:  # unknown tool, bad arguments, disabled: the model is told
        return {"status": "failed", "error": refused.detail}
    return _outcome(execution)


def _outcome(execution: ToolExecution) -> dict[str, Any]:
    outcome: dict[str, Any] = {
        "status": execution.status,
        "tool_id": execution.tool_id,
        "execution_id": str(execution.id),
    }
    if execution.result is not None:
        outcome["result"] = execution.result.get("value")
    if execution.error:
        outcome["error"] = execution.error
    return outcome


async def _decided(turn: _Turn, execution_id: str, stop: asyncio.Event) -> dict[str, Any]:
    """The call's outcome once an approver has decided (approved, it ran), or, past
    `turn_approval_wait_s` or a cancel, that it did not run."""
    settings = turn.runtime.settings
    deadline = time.monotonic() + settings.turn_approval_wait_s
    while time.monotonic() < deadline and not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.turn_approval_poll_s)
        async with tenant_session(turn.runtime.sessions, turn.principal.tenant_id) as session:
            execution = (
                await session.execute(
                    select(ToolExecution).where(ToolExecution.id == uuid.UUID(execution_id))
                )
            ).scalar_one()
            if execution.status not in WAITING:
                return _outcome(execution)
    return {
        "status": "awaiting_approval",
        "execution_id": execution_id,
        "error": "no decision came in time: the tool did not run",
    }


async def _finish(turn: _Turn, text: str, step: Step) -> Emitted:
    """The answer written, the run completed, the turn recorded, the mood one turn on."""
    recorder, principal = turn.recorder, turn.principal
    usage = usage_total(turn.usages)
    message_step = Step("message")
    async with tenant_session(turn.runtime.sessions, principal.tenant_id) as session:
        number = await _turn_number(session, turn.session_id)
        latency = round((time.perf_counter() - turn.started) * 1000)
        await recorder.write(
            session,
            [step, message_step],
            [
                recorder.event("message.assistant", content=text),
                recorder.event(
                    "turn.completed",
                    turn_number=number,
                    user_message=turn.text,
                    assistant_response=text,
                    run_id=turn.run_id,
                    tools_executed=turn.executed,
                    token_usage=usage,
                    latency_ms=latency,
                ),
                recorder.event(
                    "run.completed", run_id=turn.run_id, trace_id=turn.trace_id, token_usage=usage
                ),
            ],
        )
        await _close_run(session, principal, turn.run_id, "completed", output=text, usage=usage)
        await _decay(session, turn.persona)
    return Emitted(
        "run.completed",
        {"run_id": str(turn.run_id), "content": text, "usage": usage, "steps": recorder.durations},
    )


async def _fail(turn: _Turn, reason: str, chain: Chain | None = None) -> Emitted:
    recorder = turn.recorder
    error = Step(
        "error",
        detail={"error": reason, "attempts": [a.__dict__ for a in chain.attempts] if chain else []},
    )
    async with tenant_session(turn.runtime.sessions, turn.principal.tenant_id) as session:
        await recorder.write(
            session,
            [error],
            [
                recorder.event(
                    "run.failed", run_id=turn.run_id, trace_id=turn.trace_id, detail=reason
                )
            ],
        )
        await _close_run(
            session,
            turn.principal,
            turn.run_id,
            "failed",
            error=reason,
            usage=usage_total(turn.usages),
        )
    return Emitted("run.failed", {"run_id": str(turn.run_id), "error": reason})


async def _end_cancelled(turn: _Turn, chain: Chain, step: Step | None) -> Emitted:
    recorder = turn.recorder
    async with tenant_session(turn.runtime.sessions, turn.principal.tenant_id) as session:
        await recorder.write(
            session,
            [step] if step is not None else [],
            [recorder.event("run.cancelled", run_id=turn.run_id, trace_id=turn.trace_id)],
        )
        await _close_run(
            session, turn.principal, turn.run_id, "cancelled", usage=usage_total(turn.usages)
        )
    return Emitted("run.cancelled", {"run_id": str(turn.run_id)})


async def _close_run(
    session: AsyncSession,
    principal: Principal,
    run_id: uuid.UUID,
    status: str,
    *,
    output: str | None = None,
    error: str | None = None,
    usage: dict[str, int] | None = None,
) -> None:
    await session.execute(
        update(Run)
        .where(Run.id == run_id, Run.tenant_id == principal.tenant_id)
        .values(
            status=status,
            output=output,
            error_message=error,
            token_usage=usage or {},
            completed_at=datetime.now(UTC),
        )
    )


async def _turn_number(session: AsyncSession, session_id: uuid.UUID) -> int:
    found = await session.execute(
        select(func.coalesce(func.max(TurnRecord.turn_number), 0)).where(
            TurnRecord.session_id == session_id
        )
    )
    return int(found.scalar_one()) + 1


async def _decay(session: AsyncSession, persona: Persona) -> None:
    """The persona's levels one turn closer to its baseline."""
    baseline, rate = adaptation(persona.adaptation_state)
    levels = decayed(Levels.of(persona.neuromodulators), baseline, rate)
    await session.execute(
        update(Persona)
        .where(Persona.id == persona.id, Persona.tenant_id == persona.tenant_id)
        .values(neuromodulators=levels.stored())
    )
