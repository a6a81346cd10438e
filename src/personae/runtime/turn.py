"""One turn: a user's message in, the persona's answer out, every step recorded.

`start_run` appends the user's message and starts a run (`trace_id` `run-<uuid>`, status
running) with what it needs (persona, agent, the tenant's embedder, the chain of models,
the conversation so far), in one transaction;
`run_turn` carries it through, each step a `run_steps` row and a `run.step` session event
with its duration (`preparation`, `tool_calls`, `closing`):

1. retrieval: the message is embedded once; memories (as many as acetylcholine says),
   document chunks, and the tools the persona / agent may use that fit it are found at
   once, each search on a connection of its own;
2. rule matching, in the retrieval phase: the agent's rules that apply add their
   instructions, suggested wordings and tools, set variables; an EXCLUSIVE template of
   a kept rule is the answer, without a model call (`behaving`);
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
follows the messages through the outbox: enqueued with them, never awaited. No
transaction is open while a model answers. A failure (every model down, a refusal) fails
the run with a `run.failed` event and writes no answer; a cancelled run stops its model's
stream and ends `cancelled`, likewise without one.

What happens is also yielded (`Emitted`) as it happens, for the caller to stream."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from personae.db.tenancy import tenant_session
from personae.errors import (
    Conflict,
    Forbidden,
    NotFound,
    PersonaeError,
    ValidationFailed,
)
from personae.identity.models import Tenant
from personae.kernel.audit.service import audit_values
from personae.kernel.principal import Principal
from personae.personas.models import Agent, Persona
from personae.retrieval.embedding_models import model_embedder
from personae.runtime.answering import answer
from personae.runtime.chat_completions import Asked
from personae.runtime.closing import fail
from personae.runtime.context import Emitted, Services, Speaker, Turn
from personae.runtime.fallback_chain import FallbackChain, open_fallback_chain
from personae.runtime.preparation import Retrieved, history, retrieve
from personae.sessions import log
from personae.sessions.models import Run, Session

log_ = logging.getLogger(__name__)

__all__ = ["Emitted", "Runtime", "ending", "run_turn", "start_run"]


@dataclass
class Runtime(Services):
    """The turns of the server process: started, carried in tasks, cancelled."""

    cancels: dict[uuid.UUID, asyncio.Event] = field(default_factory=dict)
    """The runs of this process that may be cancelled, by id."""
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def cancel(self, run_id: uuid.UUID) -> bool:
        """Stop the run if this process runs it; whether it did."""
        stop = self.cancels.get(run_id)
        if stop is not None:
            stop.set()
        return stop is not None

    def cancel_notified(self, payload: str) -> None:
        """A cancel from any process (`runs.CANCEL_CHANNEL`)."""
        with contextlib.suppress(ValueError):
            self.cancel(uuid.UUID(payload))

    def launch(self, turn: Turn, *, stream: bool) -> asyncio.Queue[Emitted | None]:
        """Carry the started turn through in a task of its own (it goes on if its caller
        leaves); what happens arrives in the queue, then None."""
        queue: asyncio.Queue[Emitted | None] = asyncio.Queue()
        self.cancels.setdefault(turn.run_id, asyncio.Event())

        async def carry() -> None:
            try:
                async for emitted in run_turn(self, turn, stream=stream):
                    queue.put_nowait(emitted)
            finally:
                queue.put_nowait(None)

        task = asyncio.create_task(carry(), name=f"run-{turn.run_id}")
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


RUN_COLUMNS = (
    "id",
    "tenant_id",
    "persona_id",
    "agent_id",
    "session_id",
    "user_id",
    "trace_id",
    "status",
    "input",
    "output",
    "error_message",
    "token_usage",
    "started_at",
    "completed_at",
    "created_at",
)
RUN_STARTS = insert(Run).values({c: bindparam(f"run_{c}") for c in RUN_COLUMNS}).returning(Run.id)
"""A run written as it starts, with the append of its first events."""


TURN_NEEDS = ("sessions:update", "memory:read", "documents:read", "tools:read")
"""What a caller must hold for a turn: it writes the session, and the persona answers from
its memories, the documents and the tools it finds (tools it calls need `tools:execute`)."""


def require_turn(principal: Principal, *also: str) -> None:
    """403 naming every permission (a token's scopes) a turn needs and the caller lacks,
    before anything is written."""
    missing = [p for p in (*TURN_NEEDS, *also) if not principal.can(p)]
    if missing:
        raise Forbidden(
            f"a turn needs {', '.join((*TURN_NEEDS, *also))}; this caller lacks "
            f"{', '.join(missing)}"
        )


async def start_run(
    runtime: Runtime,
    principal: Principal,
    session_id: uuid.UUID,
    text: str,
    asked: Asked | None = None,
) -> Turn:
    """Append the user's message and start its run (committed), its retrieval begun
    meanwhile; the turn to carry."""
    require_turn(principal)
    retrieved: asyncio.Future[Retrieved] | None = None
    try:
        async with tenant_session(runtime.sessions, principal.tenant_id) as session:
            who = await session_speaker(runtime, session, session_id)
            persona, agent, embedder = who.persona, who.agent, who.embedder
            retrieved = asyncio.ensure_future(  # while the run is written
                retrieve(runtime, principal, who, session_id, text)
            )
            chain = await speaker_chain(runtime, session, who)
            images = asked.images if asked else ()
            if images and isinstance(chain, FallbackChain):
                chain = chain.seeing()
                if not chain.links:
                    raise ValidationFailed(
                        "the message shows images and none of the persona's models has vision",
                        field="messages",
                    )
            so_far = await history(session, session_id)
            run_id = uuid.uuid4()
            now = datetime.now(UTC)
            values: dict[str, Any] = {
                "id": run_id,
                "tenant_id": principal.tenant_id,
                "persona_id": persona.id,
                "agent_id": agent.id if agent is not None else None,
                "session_id": session_id,
                "user_id": principal.user_id,
                "trace_id": f"run-{run_id}",
                "status": "running",
                "input": text,
                "output": None,
                "error_message": None,
                "token_usage": {},
                "started_at": now,
                "completed_at": None,
                "created_at": now,
            }
            run = Run(**values)  # written with the events, in their statement
            trace = run.trace_id
            await log.append(
                session,
                principal,
                session_id,
                [
                    log.NewEvent("message.user", _said(text, images), 1, trace),
                    log.NewEvent(
                        "run.started", {"run_id": str(run_id), "trace_id": trace}, 1, trace
                    ),
                ],
                system=True,  # checked above; audited as the run's start
                audit=audit_values(principal, "start", "run", run_id, data={"trace_id": trace}),
                alongside=[log.Alongside(RUN_STARTS, {f"run_{k}": v for k, v in values.items()})],
            )
    except BaseException:
        if retrieved is not None:  # nothing of it goes on after the request
            retrieved.cancel()
            await asyncio.wait([retrieved])
            if not retrieved.cancelled():
                retrieved.exception()  # its failure is not the one to report
        raise
    return Turn(
        runtime,
        principal,
        run,
        persona,
        agent,
        embedder,
        chain,
        so_far,
        retrieved,
        asked=asked or Asked(),
    )


def _said(text: str, images: tuple[str, ...]) -> dict[str, Any]:
    """A user message's payload (the log keeps the text, and how many images it showed)."""
    return {"content": text, "metadata": {"images": len(images)}} if images else {"content": text}


SPEAKER = (
    select(Session.persona_id, Session.customer_profile_id, Persona, Agent, Tenant.embedding_model)
    .select_from(Session)
    .join(Tenant, Tenant.id == Session.tenant_id)
    .outerjoin(
        Persona,
        (Persona.tenant_id == Session.tenant_id)
        & (Persona.id == Session.persona_id)
        & Persona.deleted_at.is_(None),
    )
    .outerjoin(Agent, (Agent.tenant_id == Session.tenant_id) & (Agent.id == Session.agent_id))
    .where(Session.id == bindparam("session_id"), Session.deleted_at.is_(None))
)
"""A live session's persona, customer and agent, with the tenant's embedding model: one
query."""


async def speaker_chain(
    runtime: Runtime, session: AsyncSession, who: Speaker
) -> FallbackChain | PersonaeError:
    """The persona's (or agent's) models, opened, or why they could not be (a model
    missing: the run fails on it)."""
    try:
        return await open_fallback_chain(
            session,
            runtime.vault,
            runtime.limiter,
            runtime.clients,
            who.persona,
            who.agent,
            timeout_s=runtime.settings.turn_model_timeout_s,
            endpoint_hosts=runtime.settings.model_endpoint_hosts,
        )
    except PersonaeError as unopened:
        return unopened


async def session_speaker(
    runtime: Runtime, session: AsyncSession, session_id: uuid.UUID
) -> Speaker:
    """The session's persona, agent and customer, and the tenant's embedder."""
    found = (await session.execute(SPEAKER, {"session_id": session_id})).one_or_none()
    if found is None:
        raise NotFound("no such session")
    persona_id, customer, persona, agent, model = found
    if persona_id is None:
        raise Conflict("the session has no persona: set its persona_id first")
    if persona is None:
        raise Conflict("the session's persona is deleted: set another persona_id")
    return Speaker(persona, agent, customer, model_embedder(runtime.embedders, model))


async def run_turn(runtime: Runtime, turn: Turn, *, stream: bool) -> AsyncIterator[Emitted]:
    """Carry the started turn through; what happens, as it happens."""
    stop = runtime.cancels.setdefault(turn.run_id, asyncio.Event())
    yield Emitted("run.started", {"run_id": str(turn.run_id), "trace_id": turn.trace_id})
    try:
        async for emitted in answer(turn, stream, stop):
            yield emitted
    except Exception:  # a bug or the database gone: the run must not stay "running"
        log_.exception("run %s broke", turn.run_id)
        yield await fail(turn, "the run broke on an internal error")
    finally:
        runtime.cancels.pop(turn.run_id, None)
