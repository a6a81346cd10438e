"""Migration plans: how live sessions in a scenario's version N move to version N+1.

Each step of version N is anchored in N+1 by a hash of its content (all but its name)
and by its name, and given a policy:
- CLEAN_GRAFT: the step is in N+1 unchanged (under its name, or renamed): the session
  moves to it;
- GAP_FILL: the step is in N+1 under its name but needs variables it did not: the
  session moves to it, the variables are taken from the customer's profile where it has
  them, and the agent asks for the rest;
- RE_ROUTE: the step changed otherwise, or is gone: the session moves to the step's new
  form, or to its nearest anchor (the closest checkpoint before it in N that N+1 kept,
  else the closest step before it that N+1 kept, else N+1's first step).
`anchor_policies` overrides any step's (`{"step": {"policy": "RE_ROUTE", "to": "x"}}`),
and `scope_filter` limits a plan to some sessions (by id, step, customer or channel).

A plan is DRAFT when computed, with how many live sessions each policy would touch (a
dry run); APPROVED by someone with `scenarios:approve`; DEPLOYED: the sessions it covers
are marked `pending_migration` in one statement and each is moved on its next turn
(`steering`), just in time, with a `scenario.migrated` event saying how."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, column, func, select, table, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.ext.asyncio import AsyncSession

from personae.behavior import journeys, scenarios
from personae.behavior.models import MigrationPlan, Scenario
from personae.db.types import uuid7
from personae.errors import Conflict, ValidationFailed
from personae.kernel.audit.service import record
from personae.kernel.principal import Principal
from personae.kernel.resources import Resource

POLICIES = ("CLEAN_GRAFT", "GAP_FILL", "RE_ROUTE")
OPEN = ("ACTIVE", "IDLE")
"""The sessions a plan moves: open ones."""
SCOPES = {
    "session_ids": "id",
    "steps": "current_step_id",
    "customer_profile_ids": "customer_profile_id",
    "channels": "channel",
}
"""What a scope filter may name, and the session column each reads."""
MAX_SCOPE_VALUES = 10_000


PLANS = Resource(MigrationPlan, "migration_plan", "scenarios")
"""A scenario's plans (`/scenarios/{scenario_id}/migration-plans`), read with
`scenarios:read`; made, approved and deployed below."""


def content_hash(step: journeys.Step) -> str:
    """What a step is, but for its name: equal for a step kept as it was."""
    body = step.model_dump(mode="json", exclude={"name"})
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]


def anchored(
    old: Sequence[journeys.Step],
    new: Sequence[journeys.Step],
    overrides: Mapping[str, Mapping[str, Any]],
) -> dict[str, dict[str, Any]]:
    """Where each step of the old version goes in the new one, and by which policy."""
    by_name = {step.name: step for step in new}
    by_hash = {content_hash(step): step.name for step in reversed(new)}
    moves: dict[str, dict[str, Any]] = {}
    for step in old:
        same = by_name.get(step.name)
        digest = content_hash(step)
        if same is not None and content_hash(same) == digest:
            moves[step.name] = {"policy": "CLEAN_GRAFT", "to": step.name}
        elif digest in by_hash:
            moves[step.name] = {"policy": "CLEAN_GRAFT", "to": by_hash[digest], "why": "renamed"}
        elif same is not None:
            gap = [v for v in same.required_variables if v not in step.required_variables]
            moves[step.name] = (
                {"policy": "GAP_FILL", "to": step.name, "collect": gap}
                if gap
                else {"policy": "RE_ROUTE", "to": step.name, "why": "changed"}
            )
    before: dict[str, list[str]] = {}
    for source in old:
        for transition in source.transitions:
            before.setdefault(transition.to, []).append(source.name)
    checkpoints = {s.name for s in old if s.checkpoint}
    for step in old:
        if step.name not in moves:
            to = _nearest(step, before, checkpoints, moves) or new[0].name
            moves[step.name] = {"policy": "RE_ROUTE", "to": to, "why": "gone"}
    for name, given in overrides.items():
        moves[name] = {**_override(name, given, old, by_name), "why": "told"}
    return moves


def _nearest(
    step: journeys.Step,
    before: Mapping[str, list[str]],
    checkpoints: set[str],
    moves: Mapping[str, Mapping[str, Any]],
) -> str | None:
    """Where a step that is gone re-routes: the new home of the closest earlier step (in
    the old graph: `before` names each step's predecessors) that is a checkpoint and has
    one, else of the closest that has one (None: no earlier step has one)."""
    seen, frontier, earlier = {step.name}, [step.name], []
    while frontier:  # breadth first: the closest earlier steps first
        frontier = [e for name in frontier for e in before.get(name, []) if e not in seen]
        frontier = list(dict.fromkeys(frontier))
        seen.update(frontier)
        earlier += [e for e in frontier if e in moves]
    chosen = next((e for e in earlier if e in checkpoints), earlier[0] if earlier else None)
    return str(moves[chosen]["to"]) if chosen is not None else None


def _override(
    name: str,
    given: Mapping[str, Any],
    old: Sequence[journeys.Step],
    by_name: Mapping[str, journeys.Step],
) -> dict[str, Any]:
    field = f"anchor_policies.{name}"
    if name not in {step.name for step in old}:
        raise ValidationFailed(f"{name} is no step of the version migrated from", field=field)
    if not isinstance(given, Mapping) or given.get("policy") not in POLICIES:
        raise ValidationFailed(f"a policy: {', '.join(POLICIES)}", field=f"{field}.policy")
    to = given.get("to", name)
    if to not in by_name:
        raise ValidationFailed(f"{to} is no step of the version migrated to", field=f"{field}.to")
    moved: dict[str, Any] = {"policy": given["policy"], "to": to}
    if given["policy"] == "GAP_FILL":
        moved["collect"] = list(by_name[to].required_variables)
    return moved


async def steps_of(
    session: AsyncSession, scenario: Scenario, version: int, field: str
) -> list[journeys.Step]:
    """The steps of a version of the scenario, checked (422 on `field` if it never had it)."""
    given = await scenarios.version_steps(session, scenario, version)
    if given is None:
        raise ValidationFailed(f"the scenario has no version {version}", field=field)
    return journeys.check(given)


SESSIONS = table(
    "sessions",
    column("id", PG_UUID(as_uuid=True)),
    column("status"),
    column("channel"),
    column("customer_profile_id", PG_UUID(as_uuid=True)),
    column("active_scenario_id", PG_UUID(as_uuid=True)),
    column("active_scenario_version"),
    column("current_step_id"),
    column("pending_migration", JSONB),
)
"""The sessions' columns a plan reads and marks (the sessions area is a sibling: its table
is read here by name, as SQL, not through its code)."""


def _scoped(plan: MigrationPlan) -> ColumnElement[bool]:
    """The open sessions in the plan's version of its scenario that its filter covers."""
    clauses = [
        SESSIONS.c.active_scenario_id == plan.scenario_id,
        SESSIONS.c.active_scenario_version == plan.from_version,
        SESSIONS.c.status.in_(OPEN),
    ]
    for key, values in (plan.scope_filter or {}).items():
        clauses.append(SESSIONS.c[SCOPES[key]].in_(values))
    return and_(*clauses)


def _checked_scope(given: Any) -> dict[str, list[Any]] | None:
    if given is None:
        return None
    if not isinstance(given, Mapping):
        raise ValidationFailed("must be an object", field="scope_filter")
    scope: dict[str, list[Any]] = {}
    for key, values in given.items():
        field = f"scope_filter.{key}"
        if key not in SCOPES:
            raise ValidationFailed(f"one of {', '.join(SCOPES)}", field=field)
        if not isinstance(values, list) or len(values) > MAX_SCOPE_VALUES:
            raise ValidationFailed(f"a list of at most {MAX_SCOPE_VALUES}", field=field)
        if key in ("session_ids", "customer_profile_ids"):
            try:
                values = [str(uuid.UUID(str(v))) for v in values]
            except ValueError:
                raise ValidationFailed("a list of ids", field=field) from None
        elif not all(isinstance(v, str) for v in values):
            raise ValidationFailed("a list of names", field=field)
        scope[key] = values
    return scope


async def _counts(session: AsyncSession, plan: MigrationPlan) -> dict[str, Any]:
    """How many sessions each step and policy would move (a dry run)."""
    found = await session.execute(
        select(SESSIONS.c.current_step_id, func.count())
        .where(_scoped(plan))
        .group_by(SESSIONS.c.current_step_id)
    )
    moves = plan.transformation_map["steps"]
    by_step = {str(step): int(n) for step, n in found}
    by_policy = dict.fromkeys(POLICIES, 0)
    for step, n in by_step.items():
        policy = moves.get(step, {}).get("policy")
        if policy is not None:
            by_policy[policy] += n
    return {"sessions": sum(by_step.values()), "by_policy": by_policy, "by_step": by_step}


async def create(
    session: AsyncSession,
    principal: Principal,
    scenario: Scenario,
    *,
    from_version: int | None,
    to_version: int | None,
    anchor_policies: Mapping[str, Any] | None,
    scope_filter: Mapping[str, Any] | None,
) -> MigrationPlan:
    """A DRAFT plan from `from_version` (the one before the current, by default) to the
    next, with its dry run."""
    principal.require("scenarios:update")
    to = to_version if to_version is not None else scenario.version
    start = from_version if from_version is not None else to - 1
    if start < 1 or to != start + 1:
        raise ValidationFailed("a plan goes from one version to the next", field="to_version")
    if to > scenario.version:
        raise ValidationFailed(f"the scenario has no version {to}", field="to_version")
    old = await steps_of(session, scenario, start, "from_version")
    new = await steps_of(session, scenario, to, "to_version")
    overrides = dict(anchor_policies or {})
    plan = MigrationPlan(
        id=uuid7(),
        tenant_id=scenario.tenant_id,
        scenario_id=scenario.id,
        from_version=start,
        to_version=to,
        status="DRAFT",
        transformation_map={"steps": anchored(old, new, overrides)},
        anchor_policies=overrides,
        scope_filter=_checked_scope(scope_filter),
    )
    plan.transformation_map = {**plan.transformation_map, "dry_run": await _counts(session, plan)}
    session.add(plan)
    await session.flush()
    await record(
        session,
        principal,
        "create",
        "migration_plan",
        plan.id,
        data={"scenario_id": str(scenario.id), "from": start, "to": to},
    )
    return plan


async def approve(
    session: AsyncSession, principal: Principal, scenario_id: uuid.UUID, plan_id: uuid.UUID
) -> MigrationPlan:
    """DRAFT → APPROVED, by someone who may approve scenarios (409 if not a draft)."""
    principal.require("scenarios:approve")
    plan = await PLANS.get(
        session, principal, plan_id, {"scenario_id": scenario_id}, action="update"
    )
    if plan.status != "DRAFT":
        raise Conflict(f"the plan is {plan.status}, not DRAFT: only a draft is approved")
    plan.status, plan.approved_by = "APPROVED", principal.user_id
    plan.approved_at = datetime.now(UTC)
    await session.flush()
    await record(session, principal, "approve", "migration_plan", plan.id)
    return plan


async def deploy(
    session: AsyncSession, principal: Principal, scenario_id: uuid.UUID, plan_id: uuid.UUID
) -> tuple[MigrationPlan, list[uuid.UUID]]:
    """APPROVED → DEPLOYED: the sessions it covers marked to move on their next turn, in
    one statement; the plan and their ids (409 if the plan is not approved)."""
    plan = await PLANS.get(
        session, principal, plan_id, {"scenario_id": scenario_id}, action="update"
    )
    if plan.status != "APPROVED":
        raise Conflict(f"the plan is {plan.status}: only an approved plan is deployed")
    marked = await session.execute(
        update(SESSIONS)
        .where(_scoped(plan))
        .values(
            pending_migration={
                "plan_id": str(plan.id),
                "from_version": plan.from_version,
                "to_version": plan.to_version,
            }
        )
        .returning(SESSIONS.c.id)
    )
    ids = list(marked.scalars())
    plan.status, plan.deployed_at = "DEPLOYED", datetime.now(UTC)
    plan.transformation_map = {**plan.transformation_map, "deployed_to": len(ids)}
    await session.flush()
    await record(
        session, principal, "deploy", "migration_plan", plan.id, data={"sessions": len(ids)}
    )
    return plan, ids


MOVE = (
    "SELECT p.transformation_map -> 'steps' -> s.current_step_id FROM migration_plans AS p "
    "WHERE p.id = CAST(s.pending_migration ->> 'plan_id' AS uuid) AND p.status = 'DEPLOYED' "
    "AND p.scenario_id = s.active_scenario_id "
    "AND p.from_version = s.active_scenario_version"
)
"""Where the deployed plan a session `s` waits for moves it from its step: a subquery of
the turn's first statement over `sessions AS s` (no round trip of its own)."""
