"""Writing a run down: its steps (a `run_steps` row and a `run.step` session event each,
with its duration) and the session events of its progress, in short transactions of
their own, so watchers see the turn as it goes and no transaction waits on a model. What
may wait a moment (`commit_soon`: the first steps, while the model is called) is written
with what comes next if that comes within `turn_steps_flush_s`: a quick turn's end is one
transaction, not two."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import Integer, String, Uuid, bindparam, column, func, insert, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from personae.db.tenancy import tenant_session
from personae.kernel.principal import Principal
from personae.providers.chat import spent
from personae.sessions import log
from personae.sessions.models import RunStep


@dataclass
class Step:
    """A step being timed; `detail` is what it recorded."""

    step_type: str
    started: float = field(default_factory=time.perf_counter)
    input: dict[str, Any] | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    tool_id: uuid.UUID | None = None
    ended: float | None = None

    def end(self, **detail: Any) -> None:
        """Stop the step's clock (else it runs until written); add to its detail."""
        self.ended = time.perf_counter()
        self.detail.update(detail)

    @property
    def duration_ms(self) -> int:
        return round(((self.ended or time.perf_counter()) - self.started) * 1000)


@dataclass
class Recorder:
    """One run's steps and events, numbered in order."""

    sessions: async_sessionmaker[AsyncSession]
    principal: Principal
    session_id: uuid.UUID
    run_id: uuid.UUID
    trace_id: str
    steps: int = 0
    durations: dict[str, int] = field(default_factory=dict)
    """Milliseconds per step type, summed (what `run.completed` reports)."""
    flush_after_s: float = 0.0
    """How long what `commit_soon` is given waits to be written on its own."""
    _pending: asyncio.Future[None] | None = field(default=None, repr=False)
    _flushing: bool = field(default=False, repr=False)
    _held: tuple[list[Step], list[log.NewEvent]] = field(
        default_factory=lambda: ([], []), repr=False
    )

    def event(self, event_type: str, **payload: Any) -> log.NewEvent:
        return log.NewEvent(event_type, to_jsonable_python(payload), 1, self.trace_id)

    def stepped(self, step: Step) -> tuple[dict[str, Any], log.NewEvent]:
        """The step's `run_steps` row and its `run.step` event (to write together)."""
        self.steps += 1
        duration = step.duration_ms
        self.durations[step.step_type] = self.durations.get(step.step_type, 0) + duration
        detail = to_jsonable_python(step.detail)
        row = {
            "tenant_id": str(self.principal.tenant_id),
            "run_id": str(self.run_id),
            "step_number": self.steps,
            "step_type": step.step_type,
            "tool_id": None if step.tool_id is None else str(step.tool_id),
            "input": to_jsonable_python(step.input) if step.input is not None else None,
            "output": detail,
            "duration_ms": duration,
        }
        event = self.event(
            "run.step",
            run_id=self.run_id,
            step_number=self.steps,
            step_type=step.step_type,
            duration_ms=duration,
            detail=detail,
        )
        return row, event

    async def write(
        self,
        session: AsyncSession,
        steps: Sequence[Step] = (),
        events: Sequence[log.NewEvent] = (),
        alongside: Sequence[log.Alongside] = (),
    ) -> tuple[int, ...]:
        """The steps and events, appended in `session`'s transaction (after what
        `commit_soon` was given, if it is not written yet), in one statement with
        `alongside` (see `log.append`): how many rows each of those returned."""
        await self._settled()
        held_steps, held_events = self._take()
        return await self._append(
            session, [*held_steps, *steps], [*held_events, *events], alongside
        )

    async def _settled(self) -> None:
        """Once what `commit_soon` was given is written (raises if that failed), or held
        for this write to take."""
        pending, self._pending = self._pending, None
        if pending is None:
            return
        if not self._flushing:  # still waiting, nothing taken: the next write takes it
            pending.cancel()
            return
        await pending

    async def _append(
        self,
        session: AsyncSession,
        steps: Sequence[Step],
        events: Sequence[log.NewEvent],
        alongside: Sequence[log.Alongside] = (),
    ) -> tuple[int, ...]:
        """The steps' rows, their events and `events`: one statement, with `alongside`."""
        stepped = [self.stepped(step) for step in steps]
        written = list(alongside)
        if stepped:
            rows = [row for row, _ in stepped]
            written.append(log.Alongside(STEPS_INSERT, {"run_steps": rows}))
        if not stepped and not events:  # nothing for the log: the others on their own
            return tuple(
                [len((await session.execute(a.statement, a.params)).all()) for a in alongside]
            )
        appended = await log.append(
            session,
            self.principal,
            self.session_id,
            [*(event for _, event in stepped), *events],
            system=True,
            alongside=written,
        )
        return appended.alongside[: len(alongside)]

    async def commit(self, steps: Sequence[Step] = (), events: Sequence[log.NewEvent] = ()) -> None:
        """`write` in a transaction of its own."""
        async with tenant_session(self.sessions, self.principal.tenant_id) as session:
            await self.write(session, steps, events)

    def commit_soon(self, steps: Sequence[Step] = (), events: Sequence[log.NewEvent] = ()) -> None:
        """`commit` while the run goes on (its model call starts meanwhile), after
        `flush_after_s`: a run that writes again sooner writes them then, in one
        transaction. The log keeps its order either way."""
        self._held[0].extend(steps)
        self._held[1].extend(events)
        if self._pending is None:
            self._flushing = False
            self._pending = asyncio.ensure_future(self._flush_later())

    async def _flush_later(self) -> None:
        await asyncio.sleep(self.flush_after_s)
        self._flushing = True
        steps, events = self._take()
        async with tenant_session(self.sessions, self.principal.tenant_id) as session:
            await self._append(session, steps, events)

    def _take(self) -> tuple[list[Step], list[log.NewEvent]]:
        held, self._held = self._held, ([], [])
        return held


STEP_COLUMNS = (
    column("tenant_id", Uuid),
    column("run_id", Uuid),
    column("step_number", Integer),
    column("step_type", String),
    column("tool_id", Uuid),
    column("input", JSONB),
    column("output", JSONB),
    column("duration_ms", Integer),
)
STEPS_INSERT = (
    insert(RunStep)
    .from_select(
        [c.name for c in STEP_COLUMNS],
        select(
            func.jsonb_to_recordset(bindparam("run_steps", type_=JSONB))
            .table_valued(*STEP_COLUMNS)
            .render_derived(with_types=True)
        ),
        include_defaults=False,
    )
    .returning(RunStep.id)
)
"""A run's steps in one INSERT, sent as one JSON array (`run_steps`): the same statement
however many rows."""


def usage_total(usages: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """The calls' tokens, summed (`spent` without the cost: `run.completed` and the turn
    record hold whole numbers)."""
    total = spent(usages)
    return {name: total[name] for name in ("calls", "input_tokens", "output_tokens")}
