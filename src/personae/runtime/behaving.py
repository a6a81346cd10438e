"""A turn's rules: decided in its retrieval phase, used in its prompt, its answer and
its checks (`behavior` holds what rules, templates, variables and guards are; this
module is where a turn meets them).

- `decide`: where the session stands (scenario, step, turn number, variables), the
  agent's rules decided (`behavior.applying`), the tools they attach found (read only,
  in the retrieval phase);
- `settle`: the kept rules confirmed by the utility model if the agent asks for it (no
  transaction open meanwhile), then counted as fired and the variables they set stored;
- `moves`: the scenario events the steering decided, for the turn's first write;
- `prompt_parts`: the kept rules' instructions and SUGGEST templates for the system
  prompt, and the `rule_match` step that shows it all;
- `template_answer`, `fallback_answer`: a template's answer, rendered, with its step;
- `checked`: the answer against the agent's guards, with its step."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from personae.behavior import (
    applying,
    matching,
    migration_plans,
    steering,
    templates,
    variables,
)
from personae.behavior.guards import Violation
from personae.behavior.models import RuleFire
from personae.db.tenancy import tenant_session
from personae.errors import PersonaeError
from personae.kernel.principal import Principal
from personae.personas.models import Agent
from personae.runtime import judging
from personae.runtime.context import Turn
from personae.runtime.record import Step
from personae.runtime.tool_calls import execute
from personae.sessions import log
from personae.tools import discovery
from personae.tools.catalogue import tool_named

SITUATION = text(
    "SELECT s.active_scenario_id, s.active_scenario_version, s.current_step_id, "
    "s.step_history, s.pending_migration, s.variables, "
    "(SELECT count(*) FROM turn_records AS t WHERE t.session_id = s.id) AS turns, "
    f"({variables.DEFINED}) AS definitions, "
    f"({applying.profile_query('s.customer_profile_id')}) AS customer, "
    f"({steering.ANY_SCENARIO}) AS scenarios, "
    f"({migration_plans.MOVE}) AS migration "
    "FROM sessions AS s WHERE s.id = :session_id"
)
"""Where the session stands, with the agent's variables and the customer's profile: one
statement."""
SET_VARIABLES = text(
    "UPDATE sessions SET variables = variables || CAST(:changed AS jsonb) WHERE id = :session_id"
)


@dataclass
class Decided:
    """The rules' decision for a turn, and the tools its kept rules attach."""

    behaviour: applying.Behaviour = field(default_factory=applying.Behaviour)
    tools: list[discovery.Found] = field(default_factory=list)
    situation: matching.Situation = field(default_factory=matching.Situation)
    steered: steering.Steer = field(default_factory=lambda: steering.Steer(steering.Standing()))
    """Where the message takes the session in its scenarios."""
    fire: bool = False
    """Count the kept rules as fired once settled (not again for a resumed run)."""


async def decide(
    session: AsyncSession,
    principal: Principal,
    agent: Agent | None,
    session_id: uuid.UUID,
    message: str,
    vector: list[float],
    model: str,
    customer_profile_id: uuid.UUID | None,
    *,
    fire: bool,
) -> Decided:
    """The agent's rules decided for `message` (read only: `settle` writes)."""
    if agent is None:
        return Decided()
    row = (await session.execute(SITUATION, {"session_id": session_id, "agent_id": agent.id})).one()
    values, customer = row.variables or {}, row.customer or {}
    standing = steering.Standing(
        row.active_scenario_id,
        row.active_scenario_version,
        row.current_step_id,
        row.step_history or [],
        row.pending_migration,
        row.migration,
    )
    steered = await steering.steer(
        session,
        agent.id,
        agent.configuration,
        standing,
        vector,
        model,
        {**values, "profile": customer, "message": message},
        entries=row.scenarios,
    )
    situation = matching.Situation(
        session_id,
        row.turns + 1,
        steered.scenario_id,
        steered.step.name if steered.step is not None else None,
    )
    behaviour = await applying.decide(
        session,
        agent.id,
        agent.configuration,
        message,
        vector,
        model,
        situation,
        values,
        customer_profile_id,
        variables.definitions(row.definitions),
        customer,
    )
    tools = await discovery.named(
        session,
        principal,
        [*behaviour.tools, *steered.tools()],
        persona_id=agent.persona_id,
        agent_id=agent.id,
    )
    return Decided(behaviour, tools, situation, steered, fire)


async def resolve(turn: Turn, decided: Decided) -> list[Step]:
    """Compute the variables due now, and those the session's step needs that a resolver
    can compute, with their resolver tools, as the turn's persona / agent (each a
    `tool_call` step; one that fails leaves the value as it was)."""
    behaviour, steered, steps = decided.behaviour, decided.steered, []
    now = datetime.now(UTC)
    due = behaviour.due(decided.situation.turn_number, now)
    wanted = [n for n in steered.asks if n in behaviour.resolvers and n not in due]
    for name in [*due, *wanted]:  # what the step needs and a resolver can compute, too
        tool = behaviour.resolvers[name].tool
        step = Step("tool_call", input={"name": tool, "variable": name})
        async with tenant_session(turn.services.sessions, turn.principal.tenant_id) as session:
            arguments = await _arguments(session, turn.principal.tenant_id, tool, behaviour)
            outcome = await execute(turn, session, tool, arguments)
        if outcome["status"] == "succeeded":
            result = outcome.get("result")
            value = result[name] if isinstance(result, dict) and name in result else result
            behaviour.computed(name, value, now)
            if not steering.unknown(value):
                steered.asks = [n for n in steered.asks if n != name]
        step.end(**outcome)
        steps.append(step)
    return steps


async def _arguments(
    session: AsyncSession, tenant_id: uuid.UUID, tool: str, behaviour: applying.Behaviour
) -> dict[str, Any]:
    """What a resolver is called with: the values its parameters name (the session's
    variables, then the customer's profile)."""
    try:
        found = await tool_named(session, tenant_id, tool)
    except PersonaeError:
        return {}  # the call says it is unknown
    wanted = (found.schema or {}).get("properties") or {}
    known = {**behaviour.profile, **behaviour.values}
    return {name: known[name] for name in wanted if known.get(name) is not None}


async def settle(turn: Turn, decided: Decided) -> list[Step]:
    """The kept rules confirmed by the utility model (if the agent asks for it), their
    variables set, and, the first time, their fires and variables written; the steps."""
    behaviour, steps = decided.behaviour, []
    if behaviour.verify and behaviour.kept:
        kept = behaviour.kept
        step = Step("rule_verification", input={"rules": [m.name for m in kept]})
        judged = await judging.judge(
            turn,
            judging.VERIFY,
            f"The customer's message: {behaviour.message}\n\nConditions:",
            [m.condition for m in kept],
        )
        if judged.error is None:
            behaviour.reject(
                {m.name for n, m in enumerate(kept, start=1) if n not in judged.numbers},
                "not confirmed by the utility model",
            )
        step.end(confirmed=[m.name for m in behaviour.kept], error=judged.error, usage=judged.usage)
        steps.append(step)
    if decided.fire:
        steps += await resolve(turn, decided)
    changed = behaviour.settle()
    attached = {*behaviour.tools, *decided.steered.tools()}
    decided.tools = [f for f in decided.tools if f.name in attached]
    situation = decided.situation
    if decided.fire and (behaviour.kept or changed) and situation.session_id is not None:
        services = turn.services
        async with tenant_session(services.sessions, turn.principal.tenant_id) as session:
            session.add_all(
                RuleFire(
                    tenant_id=turn.principal.tenant_id,
                    rule_id=match.rule_id,
                    session_id=situation.session_id,
                    turn_number=situation.turn_number,
                    run_id=turn.run_id,
                )
                for match in behaviour.kept
            )
            if changed:
                values = {"changed": json.dumps(changed), "session_id": situation.session_id}
                await session.execute(SET_VARIABLES, values)
    return steps


def moves(decided: Decided) -> list[log.NewEvent]:
    """The scenario events the turn records (with its first steps, in their statement: a
    `scenario.migrated` or `scenario.step` costs the turn an event row, not an append of
    its own); none for a resumed run, whose first turn recorded them."""
    if not decided.fire:
        return []
    return [log.NewEvent(kind, payload) for kind, payload in decided.steered.events]


def prompt_parts(decided: Decided, budget_chars: int) -> tuple[list[str], Step]:
    """The system prompt's parts the rules add, and the `rule_match` step."""
    behaviour = decided.behaviour
    step = Step("rule_match")
    said, failures = behaviour.instructions(budget_chars)
    parts = [part for part in (decided.steered.instructions(), said) if part]
    for chosen in behaviour.of_mode("SUGGEST"):
        try:
            wording = behaviour.render(chosen.content)
        except templates.RenderFailed as wrong:
            failures.append(f"template {chosen.name}: {wrong.detail}")
            continue
        parts.append(f"Preferred wording (adapt it to the conversation):\n{wording}")
    attached = [*behaviour.tools, *decided.steered.tools()]
    offered = {f.name for f in decided.tools}
    step.end(
        scenario=decided.steered.state,
        candidates=[m.shown() for m in behaviour.matches],
        kept=len(behaviour.kept),
        variables_set=behaviour.changed,
        templates=[{"name": c.name, "mode": c.mode, "rule": c.rule} for c in behaviour.chosen],
        tools=sorted(offered),
        tools_not_offered=[name for name in attached if name not in offered],
        failures=failures,
    )
    return parts, step


def template_answer(decided: Decided, mode: str) -> tuple[str | None, Step | None]:
    """The first template of `mode` the kept rules apply, rendered, and its `template`
    step (no template: nothing; one that does not render: its step says why)."""
    chosen = decided.behaviour.of_mode(mode)
    return _rendered(decided, chosen[0]) if chosen else (None, None)


async def fallback_answer(turn: Turn, decided: Decided) -> tuple[str | None, Step | None]:
    """The turn's FALLBACK template rendered: a kept rule's, else the agent's in scope."""
    chosen = decided.behaviour.of_mode("FALLBACK")
    if chosen:
        return _rendered(decided, chosen[0])
    if turn.agent is None:
        return None, None
    async with tenant_session(turn.services.sessions, turn.principal.tenant_id) as session:
        found = await applying.fallback(session, turn.agent.id, decided.situation)
    return _rendered(decided, found) if found else (None, None)


def _rendered(decided: Decided, template: applying.Chosen) -> tuple[str | None, Step]:
    step = Step(
        "template", input={"name": template.name, "mode": template.mode, "rule": template.rule}
    )
    try:
        answer = decided.behaviour.render(template.content)
    except templates.RenderFailed as wrong:
        step.end(error=wrong.detail)
        return None, step
    step.end(chars=len(answer))
    return answer, step


async def checked(
    turn: Turn, decided: Decided, answer: str, attempt: int
) -> tuple[list[Violation], Step | None]:
    """The guards `answer` fails, and the `guard` step (none without guards): the
    expressions evaluated, the plain-language checks judged by the utility model."""
    guards = decided.behaviour.guards
    if not guards.checks:
        return [], None
    step = Step("guard", input={"attempt": attempt})
    failed = guards.violations({**decided.behaviour.names(), "answer": answer})
    plain = guards.plain
    judged = None
    if plain:
        judged = await judging.judge(
            turn,
            judging.CHECK,
            f"The answer:\n{answer}\n\nRequirements:",
            [str(g.check) for g in plain],
        )
        failed += [
            Violation(g.name, g.says, judged.error)
            for n, g in enumerate(plain, start=1)
            if judged.error is not None or n in judged.numbers
        ]
    step.end(
        checks=[g.name for g in guards.checks],
        passed=not failed,
        violations=[v.shown() for v in failed],
        usage=judged.usage if judged else {},
    )
    return failed, step


def violation_note(failed: list[Violation]) -> str:
    """What the model is told when its answer fails guards."""
    said = "; ".join(v.says for v in failed)
    return f"That answer breaks a rule it must follow: {said}. Write the answer again."
