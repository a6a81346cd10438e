"""How a run ends: completed (the answer written, the turn recorded, the mood one turn
on), failed or cancelled (no answer written); each with its events and the run closed.
Or how it pauses: waiting for the results of the client's functions its model called."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from personae.db.after_commit import after_commit
from personae.db.tenancy import tenant_session
from personae.personas.models import Persona
from personae.personas.modulation import Levels, adaptation, decayed
from personae.providers.chat import ToolCall
from personae.runtime.context import Emitted, Turn
from personae.runtime.fallback_chain import FallbackChain
from personae.runtime.record import Step, usage_total
from personae.runtime.runs import GOING
from personae.runtime.tool_calls import parsed
from personae.sessions import log
from personae.sessions.models import Run

ENDED = ("status", "output", "error_message", "token_usage", "completed_at")
RUN_ENDS = (
    update(Run)
    .where(
        Run.id == bindparam("end_run_id"),
        Run.tenant_id == bindparam("end_tenant_id"),
        Run.status.in_(GOING),
    )
    .values({name: bindparam(f"end_{name}") for name in ENDED})
    .returning(Run.id)
)
"""A run ended (unless it was taken for abandoned meanwhile: `runs.abandon`)."""


async def finish(turn: Turn, text: str, step: Step) -> Emitted:
    """The answer written, the run completed, the turn recorded, the mood one turn on."""
    recorder = turn.recorder
    usage = usage_total(turn.usages)
    async with tenant_session(turn.services.sessions, turn.principal.tenant_id) as session:
        latency = round((time.perf_counter() - turn.started) * 1000)
        await _close(
            session,
            turn,
            [step, Step("message")],
            [
                recorder.event("message.assistant", content=text),
                recorder.event(  # numbered by the log (the session's next)
                    "turn.completed",
                    user_message=turn.text,
                    assistant_response=text,
                    run_id=turn.run_id,
                    tools_executed=turn.executed,
                    rules_matched=turn.rules_matched,
                    scenario_state=turn.scenario_state,
                    token_usage=usage,
                    latency_ms=latency,
                ),
                recorder.event(
                    "run.completed", run_id=turn.run_id, trace_id=turn.trace_id, token_usage=usage
                ),
            ],
            status="completed",
            output=text,
            token_usage=usage,
        )
        await _decay(session, turn.persona)
    return Emitted(
        "run.completed",
        {"run_id": str(turn.run_id), "content": text, "usage": usage, "steps": recorder.durations},
    )


async def pause(turn: Turn, text: str, calls: Sequence[ToolCall]) -> Emitted:
    """The run waits for the client's functions: the calls go back to the client, and the
    run goes on when their results come (`resumption.resume_run`)."""
    recorder = turn.recorder
    usage = usage_total(turn.usages)
    asked = [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in calls]
    async with tenant_session(turn.services.sessions, turn.principal.tenant_id) as session:
        await _close(
            session,
            turn,
            [],
            [
                recorder.event(
                    "run.requires_action",
                    run_id=turn.run_id,
                    trace_id=turn.trace_id,
                    tool_calls=[{**c, "arguments": parsed(c["arguments"])} for c in asked],
                )
            ],
            status="requires_action",
            output=text or None,
            token_usage=usage,
        )
    return Emitted(
        "run.requires_action",
        {"run_id": str(turn.run_id), "content": text, "tool_calls": asked, "usage": usage},
    )


async def fail(
    turn: Turn, reason: str, chain: FallbackChain | None = None, before: Sequence[Step] = ()
) -> Emitted:
    """The run failed for `reason` (its last `before` steps written first)."""
    recorder = turn.recorder
    error = Step(
        "error",
        detail={"error": reason, "attempts": [a.__dict__ for a in chain.attempts] if chain else []},
    )
    async with tenant_session(turn.services.sessions, turn.principal.tenant_id) as session:
        await _close(
            session,
            turn,
            [*before, error],
            [
                recorder.event(
                    "run.failed", run_id=turn.run_id, trace_id=turn.trace_id, detail=reason
                )
            ],
            status="failed",
            error_message=reason,
            token_usage=usage_total(turn.usages),
        )
    return Emitted("run.failed", {"run_id": str(turn.run_id), "error": reason})


async def end_cancelled(turn: Turn, chain: FallbackChain, step: Step | None) -> Emitted:
    recorder = turn.recorder
    async with tenant_session(turn.services.sessions, turn.principal.tenant_id) as session:
        await _close(
            session,
            turn,
            [step] if step is not None else [],
            [recorder.event("run.cancelled", run_id=turn.run_id, trace_id=turn.trace_id)],
            status="cancelled",
            token_usage=usage_total(turn.usages),
        )
    return Emitted("run.cancelled", {"run_id": str(turn.run_id)})


async def _close(
    session: AsyncSession,
    turn: Turn,
    steps: Sequence[Step],
    events: Sequence[log.NewEvent],
    **values: Any,
) -> None:
    """The run's last steps and events written and the run ended with `values`, in one
    statement (unless it was taken for abandoned meanwhile: `runs.abandon`); once that is
    committed, `turn.run` shows how (its caller need not read it back)."""
    run = turn.run
    values = {"output": None, "error_message": None, **values}
    values["completed_at"] = None if values["status"] == "requires_action" else datetime.now(UTC)
    ending = log.Alongside(
        RUN_ENDS,
        {"end_run_id": run.id, "end_tenant_id": run.tenant_id}
        | {f"end_{name}": value for name, value in values.items()},
    )
    [closed] = await turn.recorder.write(session, steps, events, alongside=[ending])
    if closed == 1:

        async def shown() -> None:
            for name, value in values.items():
                set_committed_value(run, name, value)

        after_commit(session, shown)


async def _decay(session: AsyncSession, persona: Persona) -> None:
    """The persona's levels one turn closer to its baseline."""
    baseline, rate = adaptation(persona.adaptation_state)
    now = Levels.of(persona.neuromodulators)
    levels = decayed(now, baseline, rate)
    if levels.stored() == now.stored():  # at its baseline (as stored) already
        return
    await session.execute(
        update(Persona)
        .where(Persona.id == persona.id, Persona.tenant_id == persona.tenant_id)
        .values(neuromodulators=levels.stored())
    )
