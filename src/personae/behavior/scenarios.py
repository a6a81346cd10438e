"""Scenarios: the journeys an agent's conversations move through, in versions.

A scenario's `steps` are a graph (`behavior.journeys`, checked when written). A session
enters it when its `entry_condition` (plain language, matched like a rule) or its
`entry_expression` (over the session's variables) holds, and moves along transitions.
Changing what a scenario is (its steps or how it is entered) makes a new version: the
old one is archived whole in `scenario_archives`, and the sessions in it keep running on
it until a migration plan moves them. Each version's conditions are embedded when written
as its `scenario_phrasings`, which stay while sessions may need them."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from personae.behavior import by_name, expressions, journeys, phrasings
from personae.behavior.models import Scenario, ScenarioArchive, ScenarioPhrasing
from personae.errors import NotFound, ValidationFailed
from personae.kernel.principal import Principal
from personae.kernel.resources import Resource
from personae.providers.embeddings import Embedders

VERSIONED = ("steps", "entry_condition", "entry_expression")
"""What a scenario is: a change to any of these makes a new version."""
EXPORTED = ("name", "description", "entry_condition", "entry_expression", "steps", "enabled")


class _Scenarios(Resource[Scenario]):
    """Scenarios of an agent (`/agents/{agent_id}/scenarios`), unique by name within it."""

    async def check(
        self, session: AsyncSession, principal: Principal, values: Mapping[str, Any]
    ) -> None:
        if "steps" in values:
            journeys.check(values["steps"])
        condition = values.get("entry_condition")
        if condition is not None and not str(condition).strip():
            raise ValidationFailed("say when the scenario is entered", field="entry_condition")
        if values.get("entry_expression") is not None:
            expressions.parse(values["entry_expression"], "entry_expression")

    async def changing(
        self,
        session: AsyncSession,
        principal: Principal,
        row: Scenario,
        changes: Mapping[str, Any],
    ) -> None:
        """A change to what the scenario is archives the version it ends (the row is
        locked) and makes the next one."""
        if any(name in changes and changes[name] != getattr(row, name) for name in VERSIONED):
            session.add(
                ScenarioArchive(
                    tenant_id=row.tenant_id,
                    scenario_id=row.id,
                    version=row.version,
                    scenario_data=snapshot(row),
                )
            )
            row.version += 1


SCENARIOS = _Scenarios(Scenario, "scenario", "scenarios", unique=("agent_id", "name"))


def step_tools(values: Mapping[str, Any]) -> dict[str, str]:
    """The tools a scenario's steps offer, by the field naming each (for the caller to check
    that the tenant has them: tools are an area above this one)."""
    named: dict[str, str] = {}
    for index, step in enumerate(values.get("steps") or ()):
        tools = step.get("tools") if isinstance(step, Mapping) else None
        if isinstance(tools, list):
            named |= {f"steps.{index}.tools.{n}": str(t) for n, t in enumerate(tools)}
    return named


def snapshot(row: Scenario) -> dict[str, Any]:
    """A version of the scenario, whole: what its archive keeps."""
    return {"version": row.version, **{name: getattr(row, name) for name in EXPORTED}}


async def create(
    session: AsyncSession,
    principal: Principal,
    embedders: Embedders,
    agent_id: uuid.UUID,
    values: Mapping[str, Any],
) -> Scenario:
    """A new scenario of the agent (version 1), its conditions embedded."""
    scenario = await SCENARIOS.create(session, principal, values, {"agent_id": agent_id})
    await phrase(session, embedders, [scenario])
    return scenario


async def update(
    session: AsyncSession,
    principal: Principal,
    embedders: Embedders,
    agent_id: uuid.UUID,
    scenario_id: uuid.UUID,
    changes: Mapping[str, Any],
) -> Scenario:
    """The scenario changed: a new version if what it is changed, embedded anew (a
    version's phrasings are rewritten whole, so the same steps sent again change none)."""
    scenario = await SCENARIOS.update(
        session, principal, scenario_id, changes, {"agent_id": agent_id}
    )
    if set(VERSIONED) & changes.keys():
        await phrase(session, embedders, [scenario])
    return scenario


async def put_all(
    session: AsyncSession,
    principal: Principal,
    embedders: Embedders,
    agent_id: uuid.UUID,
    scenarios: Sequence[Mapping[str, Any]],
) -> tuple[int, int, int]:
    """Import `scenarios` by name: created, updated (a new version) or left alone."""
    put = await by_name.put_all(
        session,
        principal,
        SCENARIOS,
        agent_id,
        scenarios,
        new={},
        phrased=VERSIONED,
        field_name="scenarios",
    )
    await phrase(session, embedders, put.phrased)
    return put.created, put.updated, put.unchanged


async def exported(
    session: AsyncSession, principal: Principal, agent_id: uuid.UUID
) -> list[dict[str, Any]]:
    """The agent's live scenarios by name, as `put_all` takes them back."""
    principal.require("scenarios:read")
    found = await session.execute(
        select(Scenario)
        .where(Scenario.agent_id == agent_id, Scenario.deleted_at.is_(None))
        .order_by(Scenario.name, Scenario.id)
    )
    return [{name: getattr(row, name) for name in EXPORTED} for row in found.scalars()]


async def versions(
    session: AsyncSession, principal: Principal, agent_id: uuid.UUID, scenario_id: uuid.UUID
) -> list[dict[str, Any]]:
    """Every version of the scenario, newest first: the current one, then the archived."""
    current = await SCENARIOS.get(session, principal, scenario_id, {"agent_id": agent_id})
    archived = await session.execute(
        select(ScenarioArchive)
        .where(ScenarioArchive.scenario_id == scenario_id)
        .order_by(ScenarioArchive.version.desc())
    )
    return [_current(current), *(_archived(a) for a in archived.scalars())]


async def version(
    session: AsyncSession,
    principal: Principal,
    agent_id: uuid.UUID,
    scenario_id: uuid.UUID,
    number: int,
) -> dict[str, Any]:
    """One version of the scenario (404 if it never had it)."""
    current = await SCENARIOS.get(session, principal, scenario_id, {"agent_id": agent_id})
    if number == current.version:
        return _current(current)
    archive = await _archive(session, scenario_id, number)
    if archive is None:
        raise NotFound(f"the scenario has no version {number}")
    return _archived(archive)


async def version_steps(session: AsyncSession, row: Scenario, number: int) -> list[Any] | None:
    """The steps of a version of the scenario, as written: the current one's or an
    archived one's (None: it never had that version)."""
    if number == row.version:
        return list(row.steps)
    archive = await _archive(session, row.id, number)
    return list(archive.scenario_data.get("steps") or []) if archive is not None else None


def _current(row: Scenario) -> dict[str, Any]:
    return {"current": True, "archived_at": None, **snapshot(row)}


def _archived(archive: ScenarioArchive) -> dict[str, Any]:
    return {
        **archive.scenario_data,
        "version": archive.version,
        "current": False,
        "archived_at": archive.archived_at,
    }


async def _archive(
    session: AsyncSession, scenario_id: uuid.UUID, number: int
) -> ScenarioArchive | None:
    found: ScenarioArchive | None = await session.scalar(
        select(ScenarioArchive).where(
            ScenarioArchive.scenario_id == scenario_id, ScenarioArchive.version == number
        )
    )
    return found


async def phrase(
    session: AsyncSession, embedders: Embedders, scenarios: Sequence[Scenario]
) -> None:
    """Embed the current version's entry condition and transition conditions (one call
    for all the scenarios), replacing what that version had."""
    if not scenarios:
        return
    for row in scenarios:
        await session.execute(
            delete(ScenarioPhrasing).where(
                ScenarioPhrasing.scenario_id == row.id, ScenarioPhrasing.version == row.version
            )
        )
    said = [
        (
            row,
            {
                "scenario_id": row.id,
                "version": row.version,
                "kind": kind,
                "step": step,
                "transition": transition,
            },
            text,
        )
        for row in scenarios
        for kind, step, transition, text in _phrasings(row)
    ]
    await phrasings.write(session, embedders, phrasings.SCENARIOS, scenarios, said)


def _phrasings(row: Scenario) -> list[tuple[str, str | None, int | None, str]]:
    """(kind, step, transition, text) for the entry condition and every transition's."""
    found: list[tuple[str, str | None, int | None, str]] = []
    if row.entry_condition:
        found.append(("ENTRY", None, None, row.entry_condition))
    for step in journeys.check(row.steps):
        for number, transition in enumerate(step.transitions):
            if transition.condition is not None:
                found.append(("TRANSITION", step.name, number, transition.condition))
    return found


MOVES = ("scenario.entered", "scenario.step")


async def check_moves(
    session: AsyncSession,
    agent_id: uuid.UUID | None,
    scenario_id: uuid.UUID | None,
    version: int | None,
    events: Sequence[tuple[str, Mapping[str, Any]]],
) -> None:
    """Refuse (422 naming the event) a client's `scenario.entered` of a scenario, version
    or step that the session's agent (`agent_id`) has not, or a `scenario.step` to a step
    the session's version has not; the session stands in `scenario_id` at `version`
    before the events. (Shapes are the log's to check: a payload this cannot read is left
    to it.)"""
    for index, (kind, payload) in enumerate(events):
        field = f"events.{index}.payload"
        if kind == "scenario.exited":
            scenario_id = version = None
        if kind not in MOVES:
            continue
        try:
            if kind == "scenario.entered":
                scenario_id = uuid.UUID(str(payload["scenario_id"]))
                version = int(payload["version"])
            step = str(payload["step_id"])
        except (KeyError, TypeError, ValueError):
            continue
        if scenario_id is None or version is None:
            raise ValidationFailed("the session is in no scenario", field=f"events.{index}")
        row = await session.scalar(
            select(Scenario).where(
                Scenario.id == scenario_id,
                Scenario.agent_id == agent_id,
                Scenario.deleted_at.is_(None),
            )
        )
        steps = await version_steps(session, row, version) if row is not None else None
        if steps is None:
            raise ValidationFailed(
                f"the session's agent has no scenario with that id and version {version}",
                field=f"{field}.scenario_id",
            )
        if step not in {s.get("name") for s in steps if isinstance(s, Mapping)}:
            raise ValidationFailed(
                f"version {version} of the scenario has no step {step}", field=f"{field}.step_id"
            )
