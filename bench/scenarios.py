"""Scenarios: what steering costs a turn, and migration plans over 10,000 live sessions.

On a throwaway embedded PostgreSQL, with the installation's embedder (MiniLM when
installed), one agent holding 50 scenarios of 20 steps (a chain; each step a condition
transition, an expression transition and a fallback; each scenario an entry condition),
another holding none:
- turn: a turn's rule-and-scenario decision (`runtime.behaving.decide`, read only, the
  message's vector given) on a session of each agent, taken in turn: the scenarios'
  agent's session half the time in no scenario (its 50 entry conditions matched) and half
  the time at a step (its transitions evaluated). `turn_added_p50_ms` / `_p95_ms`: the
  scenarios' agent's p50 / p95 less the other's. The steering statement alone on the
  driver is `raw_steer_p95_ms`.
- plans: 10,000 open sessions spread over the 20 steps of a scenario's version 1; version
  2 keeps 10 steps, makes 5 need a new variable and drops 5; a plan computed with its dry
  run (`plan_s_10k`) and, approved, deployed (`deploy_s_10k`), each with its commit.
- reconciliation: on 200 of the marked sessions, the decision with the pending migration
  (`scenario.migrated` decided, the session placed in version 2) against the same
  session's decision once it stands there, taken in turn; and the turn's first write
  (which the event rides in: here one other event) with the `scenario.migrated` event
  against without it, on the same session: `reconcile_p95_ms` is the p95 over the sessions
  of each one's pending decision less its plain one plus its write with the event less
  without (each session's own added cost); `reconcile_read_p95_ms` and
  `reconcile_write_p95_ms` are the two parts as differences of p95s.
Last line: one JSON object.

    python bench/scenarios.py [--queries 300] [--sessions 10000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid
from typing import Any

import asyncpg

from personae.behavior import migration_plans, scenarios
from personae.behavior.models import Scenario
from personae.db.engine import DatabaseUrls, create_engine, sessionmaker
from personae.db.tenancy import tenant_session
from personae.kernel.principal import Principal
from personae.personas.models import Agent
from personae.providers.embeddings import Embedders, label
from personae.runtime import behaving
from personae.sessions import log
from personae.settings import Settings
from throwaway import measure_and_report, new_tenant

SCENARIOS, STEPS = 50, 20
TOPICS = [
    "a lost card", "a late parcel", "a refund", "a new account", "a password reset",
    "a billing error", "a flight change", "a hotel booking", "a broken device", "a loan",
]  # fmt: skip
MESSAGES = [
    "I think my card is gone, what do I do",
    "where is my parcel, it should have come yesterday",
    "can you tell me the opening hours",
    "yes that is right, go ahead",
    "no, that is not what I meant",
    "thanks, that was all",
    "I want my money back for the order",
    "how do I change my flight to Friday",
]


def _quantiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100)
    return statistics.median(samples), cuts[94]


def _steps(number: int, version: int = 1) -> list[dict[str, Any]]:
    """A chain of `STEPS` steps; version 2 keeps ten, gives five a new variable, drops five."""
    topic = TOPICS[number % len(TOPICS)]
    names = [f"s{i}" for i in range(STEPS)]
    if version == 2:
        names = [n for i, n in enumerate(names) if not 10 <= i < 15]
    steps = []
    for position, name in enumerate(names):
        index = int(name[1:])
        step: dict[str, Any] = {
            "name": name,
            "instructions": f"Step {index} about {topic}: ask what comes next.",
        }
        if version == 2 and index >= 15:
            step["required_variables"] = [f"detail_{index}"]
        if position == len(names) - 1:
            step["terminal"] = True
        else:
            following = names[position + 1]
            step["transitions"] = [
                {"to": following, "condition": f"the customer answers question {index} on {topic}"},
                {"to": following, "expression": f"done_{index} == True", "priority": -1},
                {"to": name, "fallback": True},
            ]
            step["max_loops"] = 5
        steps.append(step)
    return steps


async def run(urls: DatabaseUrls, args: argparse.Namespace) -> dict[str, Any]:
    settings = Settings(pool_size=2)
    embedders = Embedders(settings)
    embedder = embedders.default
    model = label(embedder)
    engine = create_engine(urls.app, settings)
    sessions = sessionmaker(engine)
    tenant = (await new_tenant(urls, "Scenarios bench", f"{uuid.uuid4().hex[:8]}@x.org")).tenant
    principal = Principal.system(tenant.id)
    owner = await asyncpg.connect(urls.owner.replace("+asyncpg", ""))
    async with tenant_session(sessions, tenant.id) as session:
        busy, idle = (
            Agent(tenant_id=tenant.id, name="busy"),
            Agent(tenant_id=tenant.id, name="idle"),
        )
        session.add_all([busy, idle])
        await session.flush()
        await scenarios.put_all(
            session,
            principal,
            embedders,
            busy.id,
            [
                {
                    "name": f"journey-{n}",
                    "entry_condition": f"the customer needs help with {TOPICS[n % len(TOPICS)]}"
                    f" (case {n})",
                    "steps": _steps(n),
                }
                for n in range(SCENARIOS)
            ],
        )
    await owner.execute("VACUUM ANALYZE scenario_phrasings")
    await owner.execute("VACUUM ANALYZE scenarios")
    first = await owner.fetchval("SELECT id FROM scenarios WHERE name = 'journey-0'")
    outside, inside, plain = (
        await _session(owner, tenant.id, busy.id, None, None),
        await _session(owner, tenant.id, busy.id, first, "s3"),
        await _session(owner, tenant.id, idle.id, None, None),
    )
    rng = random.Random(5)
    asked = [rng.choice(MESSAGES) for _ in range(args.queries)]
    vectors = await embedder.embed(asked)
    figures: dict[str, Any] = {"embedder": model, "scenarios": SCENARIOS, "steps": STEPS}
    busy_ms: list[float] = []
    idle_ms: list[float] = []
    raw_ms: list[float] = []
    async with tenant_session(sessions, tenant.id, ef_search=100) as session:
        for number, (text, vector) in enumerate(zip(asked, vectors, strict=True)):
            where = outside if number % 2 else inside
            busy_ms.append(await _decide(session, principal, busy, where, text, vector, model))
            idle_ms.append(await _decide(session, principal, idle, plain, text, vector, model))
            raw_ms.append(await _raw_steer(owner, busy.id, first, vector, model, number))
    busy_p50, busy_p95 = _quantiles(busy_ms)
    idle_p50, idle_p95 = _quantiles(idle_ms)
    figures |= {
        "turn_p50_ms": round(busy_p50, 3),
        "turn_p95_ms": round(busy_p95, 3),
        "none_p50_ms": round(idle_p50, 3),
        "none_p95_ms": round(idle_p95, 3),
        "turn_added_p50_ms": round(busy_p50 - idle_p50, 3),
        "turn_added_p95_ms": round(busy_p95 - idle_p95, 3),
        "raw_steer_p95_ms": round(_quantiles(raw_ms)[1], 3),
    }
    figures |= await _plans(owner, sessions, principal, embedders, busy, first, vectors, args)
    await owner.close()
    await engine.dispose()
    figures["targets"] = {
        "turn_added_p95_ms": 3,
        "plan_s_10k": 2,
        "deploy_s_10k": 5,
        "reconcile_p95_ms": 2,
    }
    return figures


async def _session(
    owner: asyncpg.Connection,
    tenant: uuid.UUID,
    agent: uuid.UUID,
    scenario: uuid.UUID | None,
    step: str | None,
) -> uuid.UUID:
    found: uuid.UUID = await owner.fetchval(
        "INSERT INTO sessions (tenant_id, agent_id, active_scenario_id, active_scenario_version,"
        " current_step_id, step_history) VALUES ($1, $2, $3, $4, $5, $6::jsonb) RETURNING id",
        tenant,
        agent,
        scenario,
        1 if scenario else None,
        step,
        f'[{{"step_id": "{step}", "scenario_id": "{scenario}"}}]' if scenario else "[]",
    )
    return found


async def _decide(
    session: Any,
    principal: Principal,
    agent: Agent,
    session_id: uuid.UUID,
    text: str,
    vector: list[float],
    model: str,
) -> float:
    started = time.perf_counter()
    await behaving.decide(
        session, principal, agent, session_id, text, vector, model, None, fire=False
    )
    return (time.perf_counter() - started) * 1000


async def _raw_steer(
    owner: asyncpg.Connection,
    agent: uuid.UUID,
    scenario: uuid.UUID,
    vector: list[float],
    model: str,
    number: int,
) -> float:
    """The bare statement steering reads, on the driver: the entry conditions' cosines or
    a step's transition cosines, as the decision alternates."""
    literal = "[" + ",".join(map(str, vector)) + "]"
    started = time.perf_counter()
    if number % 2:
        await owner.fetch(
            "SELECT p.scenario_id, 1 - (p.embedding <=> $2::vector) FROM scenario_phrasings p"
            " WHERE p.agent_id = $1 AND p.kind = 'ENTRY' AND p.embedding_model = $3",
            agent,
            literal,
            model,
        )
    else:
        await owner.fetch(
            "SELECT s.steps, p.transition, 1 - (p.embedding <=> $2::vector)"
            " FROM scenarios s JOIN scenario_phrasings p ON p.scenario_id = s.id"
            " AND p.version = s.version AND p.kind = 'TRANSITION' AND p.step = 's3'"
            " WHERE s.id = $1 AND p.embedding_model = $3",
            scenario,
            literal,
            model,
        )
    return (time.perf_counter() - started) * 1000


async def _plans(
    owner: asyncpg.Connection,
    sessions: Any,
    principal: Principal,
    embedders: Embedders,
    agent: Agent,
    scenario_id: uuid.UUID,
    vectors: list[list[float]],
    args: argparse.Namespace,
) -> dict[str, Any]:
    """A plan over `args.sessions` live sessions: computed, deployed, then reconciled."""
    tenant = principal.tenant_id
    await owner.execute(
        "INSERT INTO sessions (tenant_id, agent_id, active_scenario_id, active_scenario_version,"
        " current_step_id, step_history)"
        " SELECT $1, $2, $3::uuid, 1, 's' || (n % $4), jsonb_build_array(jsonb_build_object("
        "'step_id', 's' || (n % $4), 'scenario_id', $3::uuid::text))"
        " FROM generate_series(1, $5) AS n",
        tenant,
        agent.id,
        scenario_id,
        STEPS,
        args.sessions,
    )
    await owner.execute("VACUUM ANALYZE sessions")
    async with tenant_session(sessions, tenant) as session:
        await scenarios.update(
            session, principal, embedders, agent.id, scenario_id, {"steps": _steps(0, 2)}
        )
    started = time.perf_counter()
    async with tenant_session(sessions, tenant) as session:
        scenario = await session.get(Scenario, (tenant, scenario_id))
        assert scenario is not None
        plan = await migration_plans.create(
            session,
            principal,
            scenario,
            from_version=1,
            to_version=2,
            anchor_policies=None,
            scope_filter=None,
        )
        plan_id = plan.id
    plan_s = time.perf_counter() - started
    async with tenant_session(sessions, tenant) as session:
        await migration_plans.approve(session, principal, scenario_id, plan_id)
    started = time.perf_counter()
    async with tenant_session(sessions, tenant) as session:
        _, marked = await migration_plans.deploy(session, principal, scenario_id, plan_id)
    deploy_s = time.perf_counter() - started
    sample = random.Random(9).sample(marked, 200)
    pending_ms: list[float] = []
    plain_ms: list[float] = []
    with_ms: list[float] = []
    without_ms: list[float] = []
    text = "yes that is right, go ahead"
    vector = vectors[0]
    model = label(embedders.default)
    for session_id in sample:
        async with tenant_session(sessions, tenant, ef_search=100) as session:
            started = time.perf_counter()
            decided = await behaving.decide(
                session, principal, agent, session_id, text, vector, model, None, fire=True
            )
            pending_ms.append((time.perf_counter() - started) * 1000)
        migrated = [log.NewEvent(*e) for e in decided.steered.events[:1]]
        assert migrated[0].event_type == "scenario.migrated"
        for events, times in (([], without_ms), (migrated, with_ms)):
            step = log.NewEvent("note", {"text": "a run step's event"})
            started = time.perf_counter()
            async with tenant_session(sessions, tenant) as session:
                await log.append(session, principal, session_id, [step, *events], system=True)
            times.append((time.perf_counter() - started) * 1000)
        async with tenant_session(sessions, tenant, ef_search=100) as session:
            plain_ms.append(
                await _decide(session, principal, agent, session_id, text, vector, model)
            )
    pending_p95 = _quantiles(pending_ms)[1]
    plain_p95 = _quantiles(plain_ms)[1]
    event_p95 = _quantiles(with_ms)[1] - _quantiles(without_ms)[1]
    added = [
        (pending - plain) + (with_event - without)
        for pending, plain, with_event, without in zip(
            pending_ms, plain_ms, with_ms, without_ms, strict=True
        )
    ]
    return {
        "sessions": args.sessions,
        "plan_s_10k": round(plan_s, 3),
        "deploy_s_10k": round(deploy_s, 3),
        "deployed_to": len(marked),
        "pending_decide_p95_ms": round(pending_p95, 3),
        "plain_decide_p95_ms": round(plain_p95, 3),
        "first_write_p95_ms": round(_quantiles(without_ms)[1], 3),
        "first_write_migrated_p95_ms": round(_quantiles(with_ms)[1], 3),
        "reconcile_read_p95_ms": round(pending_p95 - plain_p95, 3),
        "reconcile_write_p95_ms": round(event_p95, 3),
        "reconcile_p95_ms": round(_quantiles(added)[1], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--sessions", type=int, default=10_000)
    args = parser.parse_args()
    measure_and_report(lambda urls: run(urls, args))


if __name__ == "__main__":
    main()
