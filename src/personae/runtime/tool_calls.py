"""The tool calls a model asks for, each through the tool runner as the persona / agent.

A tool it may not use is refused and the model told so; one that requires approval waits
for an approver's decision, up to `turn_approval_wait_s` (or a cancel)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from personae.db.tenancy import tenant_session
from personae.errors import PersonaeError
from personae.providers.chat import Completion, Message
from personae.runtime.context import Emitted, Turn
from personae.runtime.record import Step
from personae.tools.execution import Call
from personae.tools.models import ToolExecution

WAITING = ("pending", "awaiting_approval", "running")


async def call_tools(
    turn: Turn, completion: Completion, llm_step: Step, stop: asyncio.Event
) -> AsyncIterator[tuple[Emitted, Message | None]]:
    """Run each call the model asked for, as the persona / agent; each answer as a tool
    message for the model (a refusal or failure said plainly). Calls of the client's
    functions are left to the client."""
    services, principal = turn.services, turn.principal
    recorder = turn.recorder
    asked: list[dict[str, Any]] = [
        {"id": c.id, "name": c.name, "arguments": parsed(c.arguments)}
        for c in completion.tool_calls
    ]
    await recorder.commit(
        [llm_step],
        [recorder.event("message.assistant", content=completion.text, tool_calls=asked)],
    )
    for call, spec in zip(completion.tool_calls, asked, strict=True):
        if call.name in turn.asked.client_functions:
            continue  # the client's to run: the run pauses for it (`closing.pause`)
        step = Step("tool_call", input={"name": call.name, "arguments": spec["arguments"]})
        yield Emitted("tool.called", dict(spec)), None
        async with tenant_session(services.sessions, principal.tenant_id) as session:
            outcome = await execute(turn, session, call.name, spec["arguments"])
        if outcome["status"] == "awaiting_approval":  # the run waits for the decision
            yield Emitted("tool.awaiting_approval", {"id": call.id, **outcome}), None
            outcome = await _decided(turn, outcome["execution_id"], stop)
        async with tenant_session(services.sessions, principal.tenant_id) as session:
            step.tool_id = outcome.pop("tool_id", None)
            step.end(**outcome)
            answer = json.dumps(step.detail, default=str)[: services.settings.tool_output_bytes]
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


def parsed(text: str) -> dict[str, Any]:
    """A call's arguments as the log keeps them: the JSON object the model wrote (or, if it
    wrote something else, that text under `_unparsed`)."""
    try:
        found = json.loads(text or "{}")
    except json.JSONDecodeError:
        return {"_unparsed": text}
    return found if isinstance(found, dict) else {"_unparsed": text}


async def execute(
    turn: Turn, session: AsyncSession, name: str, arguments: dict[str, Any]
) -> dict[str, Any]:
    """Call the tool `name` as the turn's persona / agent; its outcome (a refusal is a
    failed outcome saying why)."""
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
        execution = await turn.services.tools.execute(
            session, turn.principal, name, arguments, call
        )
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


async def _decided(turn: Turn, execution_id: str, stop: asyncio.Event) -> dict[str, Any]:
    """The call's outcome once an approver has decided (approved, it ran), or, past
    `turn_approval_wait_s` or a cancel, that it did not run."""
    settings = turn.services.settings
    deadline = time.monotonic() + settings.turn_approval_wait_s
    while time.monotonic() < deadline and not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.turn_approval_poll_s)
        async with tenant_session(turn.services.sessions, turn.principal.tenant_id) as session:
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
