"""A turn's rules: decided in its retrieval phase, used in its prompt, its answer and
its checks (`behavior` holds what rules, templates, variables and guards are; this
module is where a turn meets them).

- `decide`: where the session stands (scenario, step, turn number, variables), the
  agent's rules decided (`behavior.applying`), the kept rules counted as fired and the
  variables they set stored on the session, the tools they attach found;
- `prompt_parts`: the kept rules' instructions and SUGGEST templates for the system
  prompt, and the `rule_match` step that shows it all;
- `exclusive`, `fallback`: a template's answer, rendered, with its step;
- `checked`: the answer against the agent's guards, with its step."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from personae.behavior import applying, matching, templates
from personae.behavior.guards import Violation
from personae.behavior.models import RuleFire
from personae.kernel.principal import Principal
from personae.personas.models import Agent
from personae.runtime.record import Step
from personae.tools import discovery

SITUATION = text(
    "SELECT s.active_scenario_id, s.current_step_id, s.variables, "
    "(SELECT count(*) FROM turn_records AS t WHERE t.session_id = s.id) AS turns "
    "FROM sessions AS s WHERE s.id = :session_id"
)
SET_VARIABLES = text(
    "UPDATE sessions SET variables = variables || CAST(:changed AS jsonb) WHERE id = :session_id"
)


@dataclass
class Decided:
    """The rules' decision for a turn, and the tools its kept rules attach."""

    behaviour: applying.Behaviour = field(default_factory=applying.Behaviour)
    tools: list[discovery.Found] = field(default_factory=list)


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
    """The agent's rules decided for `message`; with `fire`, the kept ones counted and the
    variables they set stored (not again for a resumed run)."""
    if agent is None:
        return Decided()
    row = (await session.execute(SITUATION, {"session_id": session_id})).one()
    situation = matching.Situation(
        session_id, row.turns + 1, row.active_scenario_id, row.current_step_id
    )
    behaviour = await applying.decide(
        session,
        agent.id,
        agent.configuration,
        message,
        vector,
        model,
        situation,
        row.variables or {},
        customer_profile_id,
    )
    if fire:
        for match in behaviour.kept:
            session.add(
                RuleFire(
                    tenant_id=principal.tenant_id,
                    rule_id=match.rule_id,
                    session_id=session_id,
                    turn_number=situation.turn_number,
                )
            )
        if behaviour.changed:
            await session.execute(
                SET_VARIABLES,
                {"changed": json.dumps(behaviour.changed), "session_id": session_id},
            )
        await session.flush()
    tools = await discovery.named(
        session, principal, behaviour.tools, persona_id=agent.persona_id, agent_id=agent.id
    )
    return Decided(behaviour, tools)


def prompt_parts(decided: Decided, budget_chars: int) -> tuple[list[str], Step]:
    """The system prompt's parts the rules add, and the `rule_match` step."""
    behaviour = decided.behaviour
    step = Step("rule_match")
    said, failures = behaviour.instructions(budget_chars)
    parts = [said] if said else []
    for chosen in behaviour.of_mode("SUGGEST"):
        try:
            wording = behaviour.render(chosen.content)
        except templates.RenderFailed as wrong:
            failures.append(f"template {chosen.name}: {wrong.detail}")
            continue
        parts.append(f"Preferred wording (adapt it to the conversation):\n{wording}")
    attached = behaviour.tools
    offered = {f.name for f in decided.tools}
    step.end(
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
    """The first template of `mode` the turn has, rendered, and its `template` step
    (no template: nothing; one that does not render: its step says why)."""
    behaviour = decided.behaviour
    chosen = behaviour.of_mode(mode)
    if not chosen:
        return None, None
    template = chosen[0]
    step = Step("template", input={"name": template.name, "mode": mode, "rule": template.rule})
    try:
        answer = behaviour.render(template.content)
    except templates.RenderFailed as wrong:
        step.end(error=wrong.detail)
        return None, step
    step.end(chars=len(answer))
    return answer, step


def checked(decided: Decided, answer: str, attempt: int) -> tuple[list[Violation], Step | None]:
    """The guards `answer` fails, and the `guard` step (none without guards)."""
    guards = decided.behaviour.guards
    if not guards.checks:
        return [], None
    step = Step("guard", input={"attempt": attempt})
    failed = guards.violations({**decided.behaviour.names(), "answer": answer})
    step.end(
        checks=[g.name for g in guards.checks],
        passed=not failed,
        violations=[v.shown() for v in failed],
    )
    return failed, step


def violation_note(failed: list[Violation]) -> str:
    """What the model is told when its answer fails guards."""
    said = "; ".join(v.says for v in failed)
    return f"That answer breaks a rule it must follow: {said}. Write the answer again."
