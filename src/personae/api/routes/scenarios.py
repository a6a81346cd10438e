"""An agent's scenarios: CRUD (a change to what one is makes a new version), its
versions, and import / export by name."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter

from personae.agents.service import AGENTS
from personae.api.deps import RequestContext, authorized
from personae.api.resource_routes import Parent, list_of, mount
from personae.api.services import Shared
from personae.behavior import migration_plans, scenarios, schemas
from personae.tools.catalogue import require_tools

router = APIRouter(prefix="/v1", tags=["scenarios"])
SCENARIOS_PATH = "/agents/{agent_id}/scenarios"
ONE = SCENARIOS_PATH + "/{scenario_id}"


@router.post(SCENARIOS_PATH, status_code=201, response_model=schemas.ScenarioOut)
async def create_scenario(
    agent_id: uuid.UUID,
    body: schemas.ScenarioCreate,
    shared: Shared,
    context: Annotated[RequestContext, authorized()],
) -> schemas.ScenarioOut:
    """A scenario of the agent, version 1; its steps are checked as a graph and its
    conditions embedded now."""
    await AGENTS.get(context.session, context.principal, agent_id)
    values = body.model_dump(exclude_unset=True)
    await _tools_exist(context, values)
    scenario = await scenarios.create(
        context.session, context.principal, shared.embedders, agent_id, values
    )
    shown = schemas.ScenarioOut.model_validate(scenario)
    await context.commit()
    return shown


@router.patch(ONE, response_model=schemas.ScenarioOut)
async def update_scenario(
    agent_id: uuid.UUID,
    scenario_id: uuid.UUID,
    body: schemas.ScenarioUpdate,
    shared: Shared,
    context: Annotated[RequestContext, authorized()],
) -> schemas.ScenarioOut:
    """Change a scenario: new steps or a new entry make a new version (the old one is
    archived; sessions in it stay on it until a migration plan moves them)."""
    await AGENTS.get(context.session, context.principal, agent_id)
    changes = body.model_dump(exclude_unset=True)
    await _tools_exist(context, changes)
    scenario = await scenarios.update(
        context.session, context.principal, shared.embedders, agent_id, scenario_id, changes
    )
    shown = schemas.ScenarioOut.model_validate(scenario)
    await context.commit()
    return shown


@router.get(ONE + "/versions", response_model=list[schemas.ScenarioVersion])
async def list_versions(
    agent_id: uuid.UUID,
    scenario_id: uuid.UUID,
    context: Annotated[RequestContext, authorized()],
) -> list[dict[str, Any]]:
    """Every version of the scenario, newest (the current one) first."""
    await AGENTS.get(context.session, context.principal, agent_id)
    return await scenarios.versions(context.session, context.principal, agent_id, scenario_id)


@router.get(ONE + "/versions/{version}", response_model=schemas.ScenarioVersion)
async def get_version(
    agent_id: uuid.UUID,
    scenario_id: uuid.UUID,
    version: int,
    context: Annotated[RequestContext, authorized()],
) -> dict[str, Any]:
    """One version of the scenario, current or archived."""
    await AGENTS.get(context.session, context.principal, agent_id)
    return await scenarios.version(
        context.session, context.principal, agent_id, scenario_id, version
    )


@router.post(SCENARIOS_PATH + "/import", response_model=schemas.Imported)
async def import_scenarios(
    agent_id: uuid.UUID,
    body: schemas.ScenariosImport,
    shared: Shared,
    context: Annotated[RequestContext, authorized()],
) -> schemas.Imported:
    """Put scenarios by name: the same import twice changes nothing."""
    await AGENTS.get(context.session, context.principal, agent_id)
    given = [scenario.model_dump(exclude_unset=True) for scenario in body.scenarios]
    for index, values in enumerate(given):
        await _tools_exist(context, values, f"scenarios.{index}.")
    created, updated, same = await scenarios.put_all(
        context.session, context.principal, shared.embedders, agent_id, given
    )
    await context.commit()
    return schemas.Imported(created=created, updated=updated, unchanged=same)


@router.get(SCENARIOS_PATH + "/export", response_model=list_of(schemas.ScenarioCreate))
async def export_scenarios(
    agent_id: uuid.UUID, context: Annotated[RequestContext, authorized()]
) -> list[dict[str, object]]:
    """Every live scenario of the agent, as an import takes them back."""
    await AGENTS.get(context.session, context.principal, agent_id)
    return await scenarios.exported(context.session, context.principal, agent_id)


# after the routes above: `/scenarios/{scenario_id}` would take `/scenarios/export`
mount(
    router,
    scenarios.SCENARIOS,
    path="/scenarios",
    id_param="scenario_id",
    out=schemas.ScenarioOut,
    parent=Parent(AGENTS, "/agents", "agent_id"),
)


PLANS_PATH = "/scenarios/{scenario_id}/migration-plans"
ONE_PLAN = PLANS_PATH + "/{plan_id}"


@router.post(PLANS_PATH, status_code=201, response_model=schemas.MigrationPlanOut)
async def create_migration_plan(
    scenario_id: uuid.UUID,
    body: schemas.MigrationPlanCreate,
    context: Annotated[RequestContext, authorized()],
) -> schemas.MigrationPlanOut:
    """A DRAFT plan moving the live sessions of one version to the next, with how many
    each policy would touch (nothing moves until it is approved and deployed)."""
    scenario = await scenarios.SCENARIOS.get(context.session, context.principal, scenario_id)
    plan = await migration_plans.create(
        context.session,
        context.principal,
        scenario,
        from_version=body.from_version,
        to_version=body.to_version,
        anchor_policies=body.anchor_policies,
        scope_filter=body.scope_filter,
    )
    shown = schemas.MigrationPlanOut.model_validate(plan)
    await context.commit()
    return shown


@router.post(ONE_PLAN + "/approve", response_model=schemas.MigrationPlanOut)
async def approve_migration_plan(
    scenario_id: uuid.UUID, plan_id: uuid.UUID, context: Annotated[RequestContext, authorized()]
) -> schemas.MigrationPlanOut:
    """DRAFT → APPROVED (needs `scenarios:approve`; audited; 409 if not a draft)."""
    await scenarios.SCENARIOS.get(context.session, context.principal, scenario_id)
    plan = await migration_plans.approve(context.session, context.principal, scenario_id, plan_id)
    shown = schemas.MigrationPlanOut.model_validate(plan)
    await context.commit()
    return shown


@router.post(ONE_PLAN + "/deploy", response_model=schemas.MigrationPlanOut)
async def deploy_migration_plan(
    scenario_id: uuid.UUID,
    plan_id: uuid.UUID,
    shared: Shared,
    context: Annotated[RequestContext, authorized()],
) -> schemas.MigrationPlanOut:
    """APPROVED → DEPLOYED: the sessions it covers are marked and each moves on its next
    turn (409 unless approved)."""
    await scenarios.SCENARIOS.get(context.session, context.principal, scenario_id)
    plan, marked = await migration_plans.deploy(
        context.session, context.principal, scenario_id, plan_id
    )
    shown = schemas.MigrationPlanOut.model_validate(plan)
    await context.commit()
    await shared.hot_sessions.forget(marked)
    return shown


mount(
    router,
    migration_plans.PLANS,
    path="/migration-plans",
    id_param="plan_id",
    out=schemas.MigrationPlanOut,
    parent=Parent(scenarios.SCENARIOS, "/scenarios", "scenario_id"),
    deletable=False,
)


async def _tools_exist(context: RequestContext, values: dict[str, Any], prefix: str = "") -> None:
    """422 naming the first tool a step offers that the tenant has not."""
    fields = {prefix + name: tool for name, tool in scenarios.step_tools(values).items()}
    if fields:
        await require_tools(context.session, context.principal.tenant_id, fields)
