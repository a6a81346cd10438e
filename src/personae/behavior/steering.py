"""Steering: where a turn's message takes a session through its agent's scenarios.

Decided in the turn's retrieval phase, before the rules (which are scoped to where the
session is after it), with one statement:
- in no scenario, `ENTRIES`: every enabled scenario of the agent with its entry
  condition's cosine to the message (its current version's phrasing); one enters when its
  `entry_expression` holds (score 1) or its condition reaches `entry_min_score`, the best
  first (then by name, then id), at its first step;
- in one, `WHERE_IT_IS`: the steps of the version the session entered (the current row's,
  or its archive's) and the cosine of the message to each transition condition of the
  current step. The transitions are tried by priority (higher first, then as listed): one
  with a condition holds at `transition_min_score`, one with an expression when the
  expression holds over the variables; a fallback is taken when none holds. A step not
  left until its `required_variables` are known: the agent is told to ask for them. A step
  entered `max_loops` times in this stay is not entered again. A terminal step is left
  on the next turn (`scenario.exited`), and the message may enter another scenario then.

A session waiting for a deployed migration plan is moved first (`scenario.migrated`, to
where the plan maps its step, read in the turn's first statement), then steered in the
new version. What it decides is events for the session's log (`scenario.migrated`,
`scenario.entered`, `scenario.step`, `scenario.exited`: written with the turn's first
steps, in their append), the step's instructions for the prompt, and `state` for the
turn's record."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from personae.behavior import expressions, journeys
from personae.errors import PersonaeError, ValidationFailed
from personae.retrieval.hybrid import vector_literal

ENTERABLE = (
    "s.agent_id = :agent_id AND s.enabled AND s.deleted_at IS NULL "
    "AND (s.entry_expression IS NOT NULL OR s.entry_condition IS NOT NULL)"
)
"""The agent's scenarios a message could enter (over `scenarios AS s`)."""
ENTRIES = text(
    f"""
SELECT s.id, s.name, s.version, s.entry_expression, s.steps -> 0 AS first_step,
       (SELECT max(1 - (p.embedding <=> CAST(:vector AS vector)))
          FROM scenario_phrasings AS p
         WHERE p.scenario_id = s.id AND p.version = s.version AND p.kind = 'ENTRY'
           AND p.embedding_model = :model) AS score
  FROM scenarios AS s
 WHERE {ENTERABLE}
"""
)
ANY_SCENARIO = f"SELECT EXISTS (SELECT 1 FROM scenarios AS s WHERE {ENTERABLE})"
"""Whether the agent has a scenario a message could enter (a subquery of the turn's first
statement: an agent with none spares the turn `ENTRIES`)."""
WHERE_IT_IS = text(
    """
SELECT s.name,
       CASE WHEN s.version = :version THEN s.steps
            ELSE (SELECT a.scenario_data -> 'steps' FROM scenario_archives AS a
                   WHERE a.scenario_id = s.id AND a.version = :version) END AS steps,
       (SELECT coalesce(jsonb_object_agg(p.transition,
                                         1 - (p.embedding <=> CAST(:vector AS vector))), '{}')
          FROM scenario_phrasings AS p
         WHERE p.scenario_id = s.id AND p.version = :version AND p.kind = 'TRANSITION'
           AND p.step = :step AND p.embedding_model = :model) AS scores
  FROM scenarios AS s
 WHERE s.id = :scenario_id AND s.deleted_at IS NULL
"""
)


@dataclass(frozen=True)
class Thresholds:
    """When conditions hold (an agent's `configuration.scenarios` overrides these)."""

    entry_min_score: float = 0.5
    transition_min_score: float = 0.5

    @classmethod
    def of(cls, configuration: Mapping[str, Any]) -> Thresholds:
        given = configuration.get("scenarios")
        given = {} if given is None else given
        if not isinstance(given, Mapping):
            raise ValidationFailed("must be an object", field="configuration.scenarios")
        values = asdict(cls())
        for name in values:
            value = given.get(name, values[name])
            if isinstance(value, bool) or not isinstance(value, int | float) or abs(value) > 1:
                raise ValidationFailed(
                    "a number between -1 and 1", field=f"configuration.scenarios.{name}"
                )
            values[name] = float(value)
        return cls(**values)


@dataclass(frozen=True)
class Standing:
    """Where the session stands in its scenarios, as the turn read it."""

    scenario_id: uuid.UUID | None = None
    version: int | None = None
    step: str | None = None
    history: Sequence[Mapping[str, Any]] = ()
    pending: Mapping[str, Any] | None = None
    """A deployed migration plan waiting for the session's next turn."""
    move: Mapping[str, Any] | None = None
    """Where that plan moves the session from its step (`migration_plans.MOVE`)."""

    def visits(self, step: str) -> int:
        """Times `step` was entered since the session last entered its scenario."""
        stay: list[Mapping[str, Any]] = []
        for entry in self.history:
            stay = [entry] if "scenario_id" in entry else [*stay, entry]
        return sum(1 for entry in stay if entry.get("step_id") == step)


@dataclass
class Steer:
    """The decision: where the session goes, the events that say so, what the agent is
    told, and what the turn's record shows."""

    standing: Standing
    scenario_id: uuid.UUID | None = None
    version: int | None = None
    name: str | None = None
    step: journeys.Step | None = None
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    asks: list[str] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)

    def tools(self) -> list[str]:
        """The tools the step the session is in offers."""
        return list(self.step.tools) if self.step is not None else []

    def instructions(self) -> str:
        """The prompt's part: the scenario and step, its instructions, what to ask for."""
        if self.step is None:
            return ""
        lines = [f"You are in the scenario {self.name}, at its step {self.step.name}."]
        if self.step.instructions:
            lines.append(self.step.instructions)
        if self.asks:
            lines.append("Before going on, ask the customer for: " + ", ".join(self.asks) + ".")
        return "\n".join(lines)


async def steer(
    session: AsyncSession,
    agent_id: uuid.UUID,
    configuration: Mapping[str, Any],
    standing: Standing,
    vector: Sequence[float],
    model: str,
    names: Mapping[str, Any],
    *,
    entries: bool = True,
) -> Steer:
    """Where the message takes the session (read only; `names`: what expressions read;
    `entries`: whether the agent has scenarios to enter)."""
    thresholds = Thresholds.of(configuration)
    literal = vector_literal(vector)
    steered = Steer(standing)
    if standing.pending is not None:
        standing, names = _reconcile(steered, standing, names)
    if standing.scenario_id is not None and standing.version is not None:
        found = (
            await session.execute(
                WHERE_IT_IS,
                {
                    "scenario_id": standing.scenario_id,
                    "version": standing.version,
                    "step": standing.step,
                    "vector": literal,
                    "model": model,
                },
            )
        ).one_or_none()
        _move(steered, standing, found, thresholds, names)
        if steered.scenario_id is not None:
            return steered
    if not entries:
        return steered
    rows = await session.execute(ENTRIES, {"agent_id": agent_id, "vector": literal, "model": model})
    _enter(steered, list(rows), thresholds, names)
    return steered


def _reconcile(
    steered: Steer, standing: Standing, names: Mapping[str, Any]
) -> tuple[Standing, Mapping[str, Any]]:
    """The session moved by its deployed migration plan (if it still applies: the plan is
    deployed and the session in its version): where it stands then, and the names with
    what was filled."""
    pending, move = standing.pending or {}, standing.move
    if standing.scenario_id is None or not move:
        return standing, names
    profile = names.get("profile") or {}
    missing = [v for v in move.get("collect", []) if unknown(names.get(v))]
    filled = {v: profile[v] for v in missing if not unknown(profile.get(v))}
    payload = {
        "plan_id": str(pending["plan_id"]),
        "from_version": standing.version,
        "to_version": pending["to_version"],
        "from_step": standing.step,
        "step_id": move["to"],
        "policy": move["policy"],
        "filled": filled,
        "asks": [v for v in missing if v not in filled],
    }
    steered.events.append(("scenario.migrated", payload))
    steered.state = {"migrated": payload}
    moved = Standing(
        standing.scenario_id,
        int(pending["to_version"]),
        str(move["to"]),
        [*standing.history, {"step_id": move["to"], "migrated": payload["plan_id"]}],
    )
    return moved, {**names, **filled}


def _move(
    steered: Steer,
    standing: Standing,
    found: Any,
    thresholds: Thresholds,
    names: Mapping[str, Any],
) -> None:
    """The step the session moves to in its scenario, or its exit."""
    if found is None or not found.steps:
        _exit(steered, standing, "the scenario or its version is gone")
        return
    steps = {step.name: step for step in _steps(found.steps)}
    here = steps.get(standing.step or "")
    if here is None:
        _exit(steered, standing, f"the step {standing.step} is not in version {standing.version}")
        return
    if here.terminal:
        _exit(steered, standing, "finished")
        return
    steered.scenario_id, steered.version, steered.name = (
        standing.scenario_id,
        standing.version,
        found.name,
    )
    scores = {int(k): float(v) for k, v in (found.scores or {}).items()}
    tried: list[dict[str, Any]] = []
    taken: journeys.Transition | None = None
    order = sorted(enumerate(here.transitions), key=lambda pair: (-pair[1].priority, pair[0]))
    for number, transition in order:
        if transition.fallback:
            continue
        holds, why = _holds(transition, scores.get(number), thresholds, names)
        tried.append({"to": transition.to, "holds": holds, "why": why})
        if holds and _room(standing, steps[transition.to], tried):
            taken = transition
            break
    if taken is None:
        fallback = next((t for t in here.transitions if t.fallback), None)
        if fallback is not None:
            tried.append({"to": fallback.to, "holds": True, "why": "fallback"})
            if _room(standing, steps[fallback.to], tried):
                taken = fallback
    missing = _missing(here, names)
    if taken is not None and missing:
        tried[-1]["why"] += f"; waits for {', '.join(missing)}"
        taken = None
    steered.step = steps[taken.to] if taken is not None else here
    steered.asks = _missing(steered.step, names)
    if taken is not None:
        steered.events.append(("scenario.step", {"step_id": taken.to, "reason": tried[-1]["why"]}))
    steered.state = {
        **steered.state,
        "scenario_id": str(standing.scenario_id),
        "name": found.name,
        "version": standing.version,
        "from": here.name,
        "step": steered.step.name,
        "moved": taken is not None,
        "transitions": tried,
        "asks": steered.asks,
    }


def _holds(
    transition: journeys.Transition,
    score: float | None,
    thresholds: Thresholds,
    names: Mapping[str, Any],
) -> tuple[bool, str]:
    if transition.expression is not None:
        try:
            holds = bool(expressions.parsed(transition.expression).evaluate(names))
        except PersonaeError as wrong:
            return False, f"expression failed: {wrong.detail}"
        return holds, f"expression {'holds' if holds else 'does not hold'}"
    if score is None:
        return False, "condition not embedded by the tenant's model"
    holds = score >= thresholds.transition_min_score
    return holds, f"condition scored {score:.3f}"


def _room(standing: Standing, target: journeys.Step, tried: list[dict[str, Any]]) -> bool:
    """Whether `target` may be entered again in this stay (its `max_loops`)."""
    visits = standing.visits(target.name)
    if target.max_loops is not None and visits >= target.max_loops:
        tried[-1]["why"] += f"; {target.name} entered {visits} times already"
        return False
    return True


def _exit(steered: Steer, standing: Standing, reason: str) -> None:
    steered.events.append(("scenario.exited", {"reason": reason}))
    steered.state = {
        **steered.state,
        "exited": str(standing.scenario_id),
        "version": standing.version,
        "from": standing.step,
        "reason": reason,
    }


def _enter(
    steered: Steer, rows: list[Any], thresholds: Thresholds, names: Mapping[str, Any]
) -> None:
    """The scenario the message enters, if any (at its first step)."""
    candidates = []
    for row in rows:
        score, why = row.score, "condition"
        if row.entry_expression is not None:
            try:
                if expressions.parsed(row.entry_expression).evaluate(names):
                    score, why = 1.0, "expression"
            except PersonaeError:
                pass  # an expression over variables not set yet does not enter
        if score is not None and row.first_step:
            candidates.append((float(score), why, row))
    candidates.sort(key=lambda c: (-c[0], c[2].name, c[2].id))
    shown = [
        {"scenario_id": str(r.id), "name": r.name, "score": round(s, 4), "by": why}
        for s, why, r in candidates[:5]
    ]
    entered = next(
        (c for c in candidates if c[1] == "expression" or c[0] >= thresholds.entry_min_score),
        None,
    )
    if entered is None:
        if shown:
            steered.state = {**steered.state, "entry_candidates": shown}
        return
    score, why, row = entered
    first = journeys.Step.model_validate(row.first_step)
    steered.scenario_id, steered.version, steered.name = row.id, row.version, row.name
    steered.step, steered.asks = first, _missing(first, names)
    steered.events.append(
        (
            "scenario.entered",
            {"scenario_id": str(row.id), "version": row.version, "step_id": first.name},
        )
    )
    steered.state = {
        **steered.state,
        "entered": str(row.id),
        "name": row.name,
        "version": row.version,
        "step": first.name,
        "by": why,
        "score": round(score, 4),
        "entry_candidates": shown,
    }


def unknown(value: Any) -> bool:
    """A variable's value that says nothing yet: none, or empty."""
    return value in (None, "", [], {})


def _missing(step: journeys.Step, names: Mapping[str, Any]) -> list[str]:
    """The step's required variables the session does not know yet."""
    return [n for n in step.required_variables if unknown(names.get(n))]


def _steps(given: Any) -> list[journeys.Step]:
    """A version's steps as written (checked when they were)."""
    return [journeys.Step.model_validate(step) for step in given]
