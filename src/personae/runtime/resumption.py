"""A run that waits for the client's functions (`requires_action`), going on once their
results come.

Each call of a client's function was given an id naming its run (`call_<run id>…`), so the
results find the run whatever the client resends with them (a stateless client sends the
whole conversation again; only the results are new). They must answer every call the run
waits for, and the run must still be the conversation's latest: a message sent since ends
the wait (the run is cancelled then, and the results refused)."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, replace

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from personae.db.statements import rowcount
from personae.db.tenancy import tenant_session
from personae.errors import Conflict, NotFound, ValidationFailed
from personae.kernel.audit.service import audit_values
from personae.kernel.principal import Principal
from personae.providers.chat import Message
from personae.runtime.chat_completions import Asked
from personae.runtime.context import Turn
from personae.runtime.preparation import HISTORY, history, retrieve
from personae.runtime.runs import end_wait
from personae.runtime.turn import Runtime, require_turn, session_speaker, speaker_chain
from personae.sessions import log
from personae.sessions.models import Run, RunStep
from personae.sessions.service import SESSIONS

PREFIX = "call_"


def run_named(call_id: str) -> uuid.UUID | None:
    """The run a client's call id names (None: not one of ours)."""
    if not call_id.startswith(PREFIX):
        return None
    try:
        return uuid.UUID(hex=call_id[len(PREFIX) : len(PREFIX) + 32])
    except ValueError:
        return None


@dataclass(frozen=True)
class Result:
    """What the client's function answered to one call."""

    tool_call_id: str
    """Empty for a legacy `function` message: it answers the waiting call of its `name`."""
    content: str
    field: str
    """Where the request holds it (`messages.3`)."""
    name: str | None = None


async def resume_run(
    runtime: Runtime,
    principal: Principal,
    persona_id: uuid.UUID,
    results: list[Result],
    asked: Asked,
    run_id: uuid.UUID | None = None,
) -> Turn:
    """The waiting run the results answer (`run_id`, else the one their call ids name),
    going on with them (committed); the turn to carry. 404 if no run of the caller's waits
    for them, 409 if the conversation went on, 400 naming a call left unanswered or
    unknown."""
    require_turn(principal)
    run_id = run_id or run_named(results[0].tool_call_id)
    if run_id is None:
        raise ValidationFailed("answers no call the persona made", field=results[0].field)
    async with tenant_session(runtime.sessions, principal.tenant_id) as session:
        run = (await session.execute(select(Run).where(Run.id == run_id))).scalar_one_or_none()
        if run is None or run.session_id is None or run.persona_id != persona_id:
            raise NotFound("no run of this model waits for these tool results")
        await SESSIONS.get(session, principal, run.session_id, action="update")
        if run.status != "requires_action":
            raise Conflict(f"the run is {run.status}: it waits for no tool results")
        so_far = await history(session, run.session_id)
        waiting = _waiting(so_far, run.id)
        if waiting is None:  # a message came since: the wait is over
            await end_wait(session, run.id, "superseded")
            await session.commit()
            raise Conflict("the conversation went on since: the run waits no more")
        named = _named(results, waiting)
        given = {r.tool_call_id: r for r in named}
        for result in named:
            if result.tool_call_id not in waiting:
                raise ValidationFailed("answers no call the run waits for", field=result.field)
        missing = sorted(set(waiting) - set(given))
        if missing:
            raise ValidationFailed(
                f"no tool message answers {', '.join(missing)}", field="messages"
            )
        who = await session_speaker(runtime, session, run.session_id)
        chain = await speaker_chain(runtime, session, who)
        taken = await session.execute(
            update(Run)
            .where(Run.id == run.id, Run.status == "requires_action")
            .values(status="running")
        )
        if rowcount(taken) != 1:
            raise Conflict("the run was resumed already")
        trace = run.trace_id
        answers = [
            event
            for call_id in waiting
            for event in (
                log.NewEvent(
                    "tool.result",
                    {"tool_call_id": call_id, "result": given[call_id].content},
                    1,
                    trace,
                ),
                log.NewEvent(
                    "message.tool",
                    {
                        "content": given[call_id].content,
                        "tool_call_id": call_id,
                        "name": waiting[call_id],
                    },
                    1,
                    trace,
                ),
            )
        ]
        resumed = log.NewEvent("run.resumed", {"run_id": str(run.id), "trace_id": trace}, 1, trace)
        await log.append(
            session,
            principal,
            run.session_id,
            [*answers, resumed],
            system=True,  # checked above; audited as the run's resumption
            audit=audit_values(principal, "resume", "run", run.id, data={"trace_id": trace}),
        )
        so_far = [  # as `history` would read it now
            *so_far,
            *(Message("tool", given[i].content, tool_call_id=i) for i in waiting),
        ][-HISTORY:]
        steps = await session.scalar(
            select(func.coalesce(func.max(RunStep.step_number), 0)).where(RunStep.run_id == run.id)
        )
        retrieved = asyncio.ensure_future(
            retrieve(runtime, principal, who, run.session_id, run.input, fire=False)
        )
        await session.commit()
    run.status = "running"
    turn = Turn(
        runtime,
        principal,
        run,
        who.persona,
        who.agent,
        who.embedder,
        chain,
        so_far,
        retrieved,
        asked=asked,
        resumed=True,
    )
    turn.recorder.steps = steps or 0  # its steps go on being numbered where they stopped
    return turn


def _waiting(so_far: list[Message], run_id: uuid.UUID) -> dict[str, str] | None:
    """The calls of the run's client functions still unanswered ({id: name}) when the
    conversation ends with them; None when it went on since."""
    last = max((i for i, m in enumerate(so_far) if m.role != "tool"), default=None)
    if last is None or so_far[last].role != "assistant" or not so_far[last].tool_calls:
        return None
    answered = {m.tool_call_id for m in so_far[last + 1 :]}
    return {
        call.id: call.name
        for call in so_far[last].tool_calls
        if call.id not in answered and run_named(call.id) == run_id
    } or None


def _named(results: list[Result], waiting: dict[str, str]) -> list[Result]:
    """The results, each legacy one (no call id) given the id of the first waiting call of
    its function not answered yet."""
    free = [(call_id, name) for call_id, name in waiting.items()]
    named = []
    for result in results:
        if not result.tool_call_id:
            match = next((pair for pair in free if pair[1] == result.name), None)
            if match is None:
                raise ValidationFailed("answers no call the run waits for", field=result.field)
            free.remove(match)
            result = replace(result, tool_call_id=match[0])
        named.append(result)
    return named


async def waiting_in(session: AsyncSession, session_id: uuid.UUID) -> uuid.UUID | None:
    """The run of the session that waits for the client's functions, if one does."""
    found = await session.execute(
        select(Run.id)
        .where(Run.session_id == session_id, Run.status == "requires_action")
        .order_by(Run.created_at.desc())
        .limit(1)
    )
    return found.scalar_one_or_none()
