"""Running tools, and recording every call.

A call is checked first (the tool is enabled, what it requires is enabled, its arguments
fit its schema: 422 naming the one at fault, with nothing recorded). Then it is recorded as
a `tool_executions` row, and one of three things happens:

- the caller's persona or agent may not use the tool: the call is `denied` (audited), or,
  when the caller asks, queued for an admin's override (`awaiting_approval`);
- the tool (or the caller's policy) requires approval: the call waits (`awaiting_approval`)
  until someone with `tools:approve` approves it (it runs then) or denies it;
- it runs: tried again with exponential backoff while its failure may pass, through the
  tool's circuit breaker; when every try failed, the call goes to the dead letters.

A run is audited when it starts and when it ends. Arguments a tool marks secret
(`writeOnly` in its schema) are never stored nor audited: only their names are, and
approving or replaying such a call needs them given again."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import httpx
from pydantic_core import to_jsonable_python
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from personae.cache import open_cache
from personae.errors import Conflict, Forbidden, NotFound, PersonaeError, ValidationFailed
from personae.kernel.audit.service import record
from personae.kernel.principal import Principal
from personae.providers.embeddings import Embedders
from personae.settings import Settings
from personae.settings_store.flags import enabled
from personae.settings_store.service import tenant_value
from personae.tools.breaker import CIRCUITS, Breakers
from personae.tools.catalogue import tool_named
from personae.tools.functions import (
    FunctionTool,
    ToolContext,
    check_arguments,
    secret_arguments,
)
from personae.tools.http_calls import call_http, host_refusal
from personae.tools.models import DeadLetter, Tool, ToolExecution
from personae.tools.outcome import Outcome
from personae.tools.permissions import permits
from personae.tools.plugins import registered_tools
from personae.tools.registry import requirements_disabled
from personae.tools.sandbox import Sandbox

REDACTED = "[secret]"
"""What is stored in place of a secret argument's value."""
TOPIC = "tool_execution"
"""The dead letters' topic for calls whose tries all failed."""


@dataclass(frozen=True)
class Call:
    """On whose behalf a tool is called, and where."""

    persona_id: uuid.UUID | None = None
    agent_id: uuid.UUID | None = None
    """Bind the call to what this persona / agent may use (else RBAC alone)."""
    session_id: uuid.UUID | None = None
    run_id: uuid.UUID | None = None
    trace_id: str | None = None
    queue_if_denied: bool = False
    """A call the persona or agent may not make waits for an admin instead of failing."""


class ToolRunner:
    """Runs tools for one server process: its settings, the embedders built-ins use, the
    circuit breakers, and a pooled HTTP client for `http` tools."""

    def __init__(self, settings: Settings, embedders: Embedders) -> None:
        self.settings = settings
        self.embedders = embedders
        self.breakers = Breakers(
            open_cache(settings, CIRCUITS),
            settings.tool_breaker_threshold,
            settings.tool_breaker_cooldown_s,
        )
        self._http: httpx.AsyncClient | None = None
        self.sandbox = Sandbox(settings)

    async def close(self) -> None:
        await self.breakers.close()
        if self._http is not None:
            await self._http.aclose()

    async def execute(
        self,
        session: AsyncSession,
        principal: Principal,
        name: str,
        arguments: Mapping[str, Any],
        call: Call = Call(),
    ) -> ToolExecution:
        """Call the tool `name` with `arguments` as `principal`; the recorded execution."""
        principal.require("tools:execute")
        tool = await tool_named(session, principal.tenant_id, name)
        if not tool.enabled:
            raise Conflict(f"{name} is disabled")
        waiting = await requirements_disabled(session, tool.id)
        if waiting:
            raise Conflict(f"{name} requires {', '.join(waiting)}, disabled: enable it first")
        check_arguments(tool.schema, arguments)
        allowed = await permits(session, call.persona_id, call.agent_id)
        execution = ToolExecution(
            tenant_id=principal.tenant_id,
            tool_id=tool.id,
            tool_name=name,
            session_id=call.session_id,
            run_id=call.run_id,
            persona_id=allowed.persona_id,
            trace_id=call.trace_id,
            arguments=_stored(tool, arguments),
            status="pending",
        )
        session.add(execution)
        await session.flush()
        if not allowed.allows(tool.id):
            reason = f"{name} is not permitted for {allowed.holder}"
            await self._hold(session, principal, execution, reason, queue=call.queue_if_denied)
        elif allowed.policy(tool)["requires_approval"]:
            await self._hold(session, principal, execution, None, queue=True)
        else:
            await self._run(session, principal, tool, arguments, execution, allowed.policy(tool))
        return execution

    async def decide(
        self,
        session: AsyncSession,
        principal: Principal,
        execution_id: uuid.UUID,
        *,
        approve: bool,
        secrets: Mapping[str, Any] | None = None,
    ) -> ToolExecution:
        """Approve a waiting call (it runs now, with `secrets` given again) or deny it."""
        principal.require("tools:approve")
        found = await session.execute(
            select(ToolExecution).where(ToolExecution.id == execution_id).with_for_update()
        )
        execution = found.scalar_one_or_none()
        if execution is None:
            raise NotFound("no such tool execution")
        if execution.status != "awaiting_approval":
            raise Conflict(f"the execution is {execution.status}, not awaiting approval")
        execution.approved_by, execution.approved_at = principal.user_id, datetime.now(UTC)
        if not approve:
            execution.status, execution.error = "denied", "denied by an approver"
            await session.flush()
            await record(session, principal, "deny", "tool_execution", execution.id)
            return execution
        tool = await self._tool_of(session, execution.tool_id)
        arguments = _restored(tool, execution.arguments, secrets or {})
        await record(session, principal, "approve", "tool_execution", execution.id)
        policy = (await permits(session, execution.persona_id, None)).policy(tool)
        await self._run(session, principal, tool, arguments, execution, policy)
        return execution

    async def replay(
        self,
        session: AsyncSession,
        principal: Principal,
        letter_id: uuid.UUID,
        secrets: Mapping[str, Any] | None = None,
    ) -> tuple[DeadLetter, ToolExecution]:
        """Run a dead letter's call again: on success the letter is resolved; on failure
        it stays, with the new error and its tries counted."""
        principal.require("tools:approve")
        found = await session.execute(
            select(DeadLetter).where(DeadLetter.id == letter_id).with_for_update()
        )
        letter = found.scalar_one_or_none()
        if letter is None:
            raise NotFound("no such dead letter")
        if letter.resolved_at is not None:
            raise Conflict("the dead letter was resolved already")
        payload = letter.payload
        tool = await self._tool_of(session, uuid.UUID(payload["tool_id"]))
        arguments = _restored(tool, payload["arguments"], secrets or {})
        execution = ToolExecution(
            tenant_id=principal.tenant_id,
            tool_id=tool.id,
            tool_name=tool.name,
            session_id=_id(payload.get("session_id")),
            persona_id=_id(payload.get("persona_id")),
            trace_id=payload.get("trace_id"),
            arguments=_stored(tool, arguments),
            status="pending",
        )
        session.add(execution)
        await session.flush()
        policy = (await permits(session, execution.persona_id, None)).policy(tool)
        outcome = await self._run(
            session, principal, tool, arguments, execution, policy, dead_letter=False
        )
        letter.last_retry_at = datetime.now(UTC)
        if outcome.succeeded:
            letter.resolved_at = letter.last_retry_at
        else:
            letter.retry_count += execution.attempt
            letter.error_message = outcome.error
        await session.flush()
        await record(
            session,
            principal,
            "replay",
            "dead_letter",
            letter.id,
            data={"execution": str(execution.id), "status": execution.status},
            result="success" if outcome.succeeded else "failure",
        )
        return letter, execution

    # -- running ------------------------------------------------------------------------

    async def _run(
        self,
        session: AsyncSession,
        principal: Principal,
        tool: Tool,
        arguments: Mapping[str, Any],
        execution: ToolExecution,
        policy: Mapping[str, Any],
        *,
        dead_letter: bool = True,
    ) -> Outcome:
        """Try the call until it succeeds, fails for good or runs out of tries; record it."""
        await record(
            session,
            principal,
            "start",
            "tool_execution",
            execution.id,
            data={"tool": tool.name, "arguments": _audited(tool, arguments)},
        )
        execution.status, execution.started_at = "running", datetime.now(UTC)
        started = time.perf_counter()
        tries = int(policy.get("max_attempts", self.settings.tool_max_attempts))
        circuit = f"{tool.id}:{tool.updated_at.timestamp()}"
        for attempt in range(1, tries + 1):
            execution.attempt = attempt
            refusal = await self.breakers.refusal(circuit)
            if refusal is not None:
                outcome = Outcome("failed", error=f"{tool.name}: {refusal}")
                break
            outcome = await self._attempt(session, principal, tool, arguments, policy)
            if outcome.succeeded:
                await self.breakers.succeeded(circuit)
            elif outcome.retryable:
                await self.breakers.failed(circuit)
            else:
                await self.breakers.released(circuit)
            if outcome.succeeded or not outcome.retryable or attempt == tries:
                break
            await asyncio.sleep(self._backoff(attempt))
        execution.status, execution.error = outcome.status, outcome.error
        if outcome.succeeded:
            execution.result = {
                "value": outcome.value,
                **({"logs": outcome.logs} if outcome.logs else {}),
            }
        execution.duration_ms = round((time.perf_counter() - started) * 1000)
        execution.completed_at = datetime.now(UTC)
        await session.flush()
        if dead_letter and outcome.retryable and not outcome.succeeded:
            session.add(_letter(execution, outcome))
            await session.flush()
        await record(
            session,
            principal,
            "finish",
            "tool_execution",
            execution.id,
            data={
                "tool": tool.name,
                "status": execution.status,
                "duration_ms": execution.duration_ms,
                "attempts": execution.attempt,
            },
            result="success" if outcome.succeeded else "failure",
        )
        return outcome

    def _backoff(self, attempt: int) -> float:
        """Full jitter: up to base * 2^(attempt-1), capped at 30 s."""
        return random.uniform(0, min(30.0, self.settings.tool_retry_base_s * 2 ** (attempt - 1)))  # noqa: S311 - jitter, not secrecy

    async def _attempt(
        self,
        session: AsyncSession,
        principal: Principal,
        tool: Tool,
        arguments: Mapping[str, Any],
        policy: Mapping[str, Any],
    ) -> Outcome:
        timeout = policy.get("timeout_s")
        if tool.code_type == "builtin":
            builtin = registered_tools().get(tool.name)
            if builtin is None:
                return Outcome("failed", error=f"the built-in {tool.name} is not installed here")
            limit = timeout or self.settings.tool_builtin_timeout_s
            context = ToolContext(session, principal, self.embedders, self.settings)
            return await _in_process(context, builtin, arguments, limit)
        if tool.code_type == "python":
            egress = None
            if bool(tool.settings.get("network")) and await enabled(
                session, tool.tenant_id, "tool_sandbox_network"
            ):
                egress = partial(
                    host_refusal,
                    allowed_hosts=self.settings.tool_http_allowed_hosts,
                    tenant_hosts=await tenant_value(session, "general", "tool_http_allowed_hosts"),
                )
            entry = str(tool.settings.get("entry", "main"))
            return await self.sandbox.run(
                tool.code or "", entry, dict(arguments), wall_s=timeout, egress=egress
            )
        if tool.code_type == "http":
            if self._http is None:
                self._http = httpx.AsyncClient(trust_env=False)
            return await call_http(
                self._http,
                tool.endpoint or "",
                arguments,
                allowed_hosts=self.settings.tool_http_allowed_hosts,
                tenant_hosts=await tenant_value(session, "general", "tool_http_allowed_hosts"),
                timeout_s=timeout or self.settings.tool_http_timeout_s,
                output_bytes=self.settings.tool_output_bytes,
            )
        return Outcome("failed", error=f"{tool.code_type} tools cannot run here")

    async def _hold(
        self,
        session: AsyncSession,
        principal: Principal,
        execution: ToolExecution,
        reason: str | None,
        *,
        queue: bool,
    ) -> None:
        """Record a call that does not run now: denied, or waiting for an approver."""
        execution.status = "awaiting_approval" if queue else "denied"
        execution.error = reason
        await session.flush()
        await record(
            session,
            principal,
            "request_approval" if queue else "deny",
            "tool_execution",
            execution.id,
            data={"tool": execution.tool_name, **({"reason": reason} if reason else {})},
            result="success" if queue else "failure",
        )

    async def _tool_of(self, session: AsyncSession, tool_id: uuid.UUID | None) -> Tool:
        found = await session.execute(
            select(Tool).where(Tool.id == tool_id, Tool.deleted_at.is_(None))
        )
        tool = found.scalar_one_or_none()
        if tool is None:
            raise Conflict("the tool is gone")
        if not tool.enabled:
            raise Conflict(f"{tool.name} is disabled")
        return tool


async def _in_process(
    context: ToolContext, tool: FunctionTool, arguments: Mapping[str, Any], timeout_s: float
) -> Outcome:
    """A built-in, in a savepoint (what it wrote goes if it fails), as the caller."""
    try:
        async with context.session.begin_nested():
            value = await asyncio.wait_for(tool.call(arguments, context), timeout_s)
            return Outcome("succeeded", value=to_jsonable_python(value))
    except TimeoutError:
        return Outcome("timed_out", error=f"no answer within {timeout_s:g} s")
    except ValidationFailed:
        raise  # the arguments were wrong after all: the caller's error, not the tool's
    except Forbidden as denied:
        return Outcome("denied", error=denied.detail)
    except PersonaeError as failed:
        return Outcome("failed", error=failed.detail)
    except Exception as crashed:
        return Outcome("failed", error=f"{type(crashed).__name__}: {crashed}", retryable=True)


def _stored(tool: Tool, arguments: Mapping[str, Any]) -> dict[str, Any]:
    secret = secret_arguments(tool.schema)
    return {k: REDACTED if k in secret else v for k, v in arguments.items()}


def _audited(tool: Tool, arguments: Mapping[str, Any]) -> dict[str, Any] | list[str]:
    """The arguments as the audit shows them: by name only when any is secret."""
    if secret_arguments(tool.schema) & arguments.keys():
        return sorted(arguments)
    return dict(arguments)


def _restored(tool: Tool, stored: Mapping[str, Any], secrets: Mapping[str, Any]) -> dict[str, Any]:
    """A stored call's arguments with its secrets given again (422 for one missing)."""
    secret = secret_arguments(tool.schema)
    for name in secrets:
        if name not in secret:
            raise ValidationFailed(
                "only secret arguments are given again", field=f"arguments.{name}"
            )
    arguments = {**stored, **secrets}
    for name, value in arguments.items():
        if name in secret and value == REDACTED:
            raise ValidationFailed("a secret argument: give it again", field=f"arguments.{name}")
    check_arguments(tool.schema, arguments)
    return arguments


def _letter(execution: ToolExecution, outcome: Outcome) -> DeadLetter:
    return DeadLetter(
        tenant_id=execution.tenant_id,
        topic=TOPIC,
        payload={
            "tool": execution.tool_name,
            "tool_id": str(execution.tool_id),
            "arguments": execution.arguments,
            "session_id": _text(execution.session_id),
            "persona_id": _text(execution.persona_id),
            "trace_id": execution.trace_id,
        },
        error_message=outcome.error,
        retry_count=execution.attempt,
        execution_id=execution.id,
    )


def _text(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


def _id(value: str | None) -> uuid.UUID | None:
    return None if value is None else uuid.UUID(value)
