"""Scenarios through the API: written with their steps checked as a graph, their
conditions embedded per version; a change to what one is makes a new version and archives
the old one whole; a change to anything else does not; imports by name; bad graphs and
unknown versions refused as problem+json naming the field."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from personae.db.engine import DatabaseUrls
from tests.api.conftest import bearer, running_app

CARD: dict[str, Any] = {
    "name": "lost-card",
    "entry_condition": "the customer lost their card",
    "steps": [
        {
            "name": "identify",
            "instructions": "Ask for the card's last four digits.",
            "required_variables": ["card_end"],
            "transitions": [
                {"to": "block", "condition": "the customer confirms the card is theirs"},
                {"to": "identify", "expression": "len(card_end) != 4"},
            ],
            "max_loops": 3,
        },
        {"name": "block", "transitions": [{"to": "done", "fallback": True}]},
        {"name": "done", "terminal": True},
    ],
}


async def _agent(client: httpx.AsyncClient, auth: dict[str, str]) -> str:
    persona = await client.post("/v1/personas", headers=auth, json={"name": "clerk"})
    assert persona.status_code == 201, persona.text
    agent = await client.post(
        "/v1/agents", headers=auth, json={"name": "desk", "persona_id": persona.json()["id"]}
    )
    assert agent.status_code == 201, agent.text
    return str(agent.json()["id"])


async def _phrasings(owner_engine: AsyncEngine, scenario_id: str) -> list[tuple[Any, ...]]:
    async with owner_engine.connect() as conn:
        found = await conn.execute(
            text(
                "SELECT version, kind, step, transition, text, embedding IS NOT NULL "
                "FROM scenario_phrasings WHERE scenario_id = :id "
                "ORDER BY version, kind, step NULLS FIRST, transition"
            ),
            {"id": scenario_id},
        )
        return [tuple(row) for row in found]


async def test_a_change_to_what_a_scenario_is_makes_a_version_and_archives_the_old(
    urls: DatabaseUrls, fresh_owner: tuple[str, str], owner_engine: AsyncEngine
) -> None:
    async with running_app(urls) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        path = f"/v1/agents/{await _agent(client, auth)}/scenarios"
        made = await client.post(path, headers=auth, json=CARD)
        assert made.status_code == 201, made.text
        scenario = made.json()
        assert scenario["version"] == 1 and scenario["steps"] == CARD["steps"]
        one = f"{path}/{scenario['id']}"
        assert await _phrasings(owner_engine, scenario["id"]) == [
            (1, "ENTRY", None, None, "the customer lost their card", True),
            (1, "TRANSITION", "identify", 0, "the customer confirms the card is theirs", True),
        ]

        described = await client.patch(one, headers=auth, json={"description": "cards"})
        assert described.json()["version"] == 1  # not what it is: no new version

        steps = [CARD["steps"][0], {"name": "block", "terminal": True}]
        changed = await client.patch(
            one, headers=auth, json={"steps": steps, "entry_condition": "the card is gone"}
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["version"] == 2
        versions = (await client.get(f"{one}/versions", headers=auth)).json()
        assert [(v["version"], v["current"]) for v in versions] == [(2, True), (1, False)]
        old = (await client.get(f"{one}/versions/1", headers=auth)).json()
        assert old["steps"] == CARD["steps"] and old["entry_condition"] == CARD["entry_condition"]
        assert old["description"] == "cards" and old["archived_at"] is not None
        missing = await client.get(f"{one}/versions/7", headers=auth)
        assert missing.status_code == 404
        # both versions' phrasings stay: sessions on version 1 still move by its transitions
        assert [p[:3] for p in await _phrasings(owner_engine, scenario["id"])] == [
            (1, "ENTRY", None),
            (1, "TRANSITION", "identify"),
            (2, "ENTRY", None),
            (2, "TRANSITION", "identify"),
        ]


async def test_scenarios_import_by_name_and_export_as_they_were_given(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    async with running_app(urls) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        path = f"/v1/agents/{await _agent(client, auth)}/scenarios"
        other = {"name": "greeting", "steps": [{"name": "hello", "terminal": True}]}
        first = await client.post(f"{path}/import", headers=auth, json={"scenarios": [CARD, other]})
        assert first.json() == {"created": 2, "updated": 0, "unchanged": 0}
        again = await client.post(f"{path}/import", headers=auth, json={"scenarios": [CARD, other]})
        assert again.json() == {"created": 0, "updated": 0, "unchanged": 2}
        renamed = {**other, "steps": [{"name": "hi", "terminal": True}]}
        third = await client.post(f"{path}/import", headers=auth, json={"scenarios": [renamed]})
        assert third.json() == {"created": 0, "updated": 1, "unchanged": 0}
        exported = (await client.get(f"{path}/export", headers=auth)).json()
        assert [(s["name"], s["steps"][0]["name"]) for s in exported] == [
            ("greeting", "hi"),
            ("lost-card", "identify"),
        ]
        listed = (await client.get(path, headers=auth)).json()["items"]
        assert {s["name"]: s["version"] for s in listed} == {"lost-card": 1, "greeting": 2}


@pytest.mark.parametrize(
    ("steps", "field"),
    [
        ([], "steps"),
        ([{"name": "a"}], "steps.0"),  # no way out, not terminal
        (
            [{"name": "a", "transitions": [{"to": "b", "fallback": True}]}],
            "steps.0.transitions.0.to",
        ),
        (
            [
                {"name": "a", "transitions": [{"to": "c", "fallback": True}]},
                {"name": "b", "terminal": True},
                {"name": "c", "terminal": True},
            ],
            "steps.1",  # unreachable
        ),
        (
            [{"name": "a", "transitions": [{"to": "a", "condition": "again"}]}],
            "steps.0.max_loops",
        ),
        (
            [
                {"name": "a", "transitions": [{"to": "b", "expression": "__import__('os')"}]},
                {"name": "b", "terminal": True},
            ],
            "steps.0.transitions.0.expression",
        ),
        (
            [{"name": "a", "terminal": True}, {"name": "a", "terminal": True}],
            "steps.1.name",
        ),
        (  # 550 conditions to embed: more than a scenario may hold
            [
                {
                    "name": f"s{i}",
                    "transitions": [{"to": f"s{i + 1}", "condition": f"c{j}"} for j in range(50)],
                }
                for i in range(11)
            ]
            + [{"name": "s11", "terminal": True}],
            "steps",
        ),
    ],
)
async def test_a_bad_graph_is_refused_naming_the_step(
    urls: DatabaseUrls, fresh_owner: tuple[str, str], steps: list[Any], field: str
) -> None:
    async with running_app(urls) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        path = f"/v1/agents/{await _agent(client, auth)}/scenarios"
        refused = await client.post(path, headers=auth, json={"name": "bad", "steps": steps})
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert field in [e["field"] for e in refused.json()["errors"]], refused.text
        made = await client.post(path, headers=auth, json=CARD)
        one = f"{path}/{made.json()['id']}"
        patched = await client.patch(one, headers=auth, json={"steps": steps})
        assert patched.status_code == 422, patched.text
        assert (await client.get(one, headers=auth)).json()["version"] == 1  # untouched


async def test_operators_enter_move_and_leave_by_api_only_where_there_is_somewhere_to_go(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    async with running_app(urls) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        agent = await _agent(client, auth)
        made = await client.post(f"/v1/agents/{agent}/scenarios", headers=auth, json=CARD)
        scenario = made.json()["id"]
        session = await client.post("/v1/sessions", headers=auth, json={"agent_id": agent})
        events = f"/v1/sessions/{session.json()['id']}/events"

        async def append(kind: str, **payload: Any) -> httpx.Response:
            body = {"events": [{"event_type": kind, "payload": payload}]}
            return await client.post(events, headers=auth, json=body)

        other = await client.post(
            "/v1/agents", headers=auth, json={"name": "elsewhere", "persona_id": None}
        )
        theirs = await client.post(
            f"/v1/agents/{other.json()['id']}/scenarios", headers=auth, json=CARD
        )
        for response, field in [
            (await append("scenario.step", step_id="block"), "events.0"),  # in none
            (  # another agent's scenario
                await append(
                    "scenario.entered",
                    scenario_id=theirs.json()["id"],
                    version=1,
                    step_id="identify",
                ),
                "events.0.payload.scenario_id",
            ),
            (
                await append("scenario.entered", scenario_id=agent, version=1, step_id="x"),
                "events.0.payload.scenario_id",
            ),
            (
                await append("scenario.entered", scenario_id=scenario, version=2, step_id="x"),
                "events.0.payload.scenario_id",
            ),
            (
                await append("scenario.entered", scenario_id=scenario, version=1, step_id="x"),
                "events.0.payload.step_id",
            ),
        ]:
            assert response.status_code == 422, response.text
            assert field in [e["field"] for e in response.json()["errors"]], response.text
        entered = await append(
            "scenario.entered", scenario_id=scenario, version=1, step_id="identify"
        )
        assert entered.status_code == 201, entered.text
        assert (await append("scenario.step", step_id="nowhere")).status_code == 422
        assert (await append("scenario.step", step_id="block")).status_code == 201
        migrated = await append(
            "scenario.migrated",
            plan_id=scenario,
            from_version=1,
            to_version=2,
            from_step="block",
            step_id="done",
            policy="CLEAN_GRAFT",
        )
        assert migrated.status_code == 422  # Personae's to write
        assert (await append("scenario.exited", reason="operator")).status_code == 201
        shown = (await client.get(f"/v1/sessions/{session.json()['id']}", headers=auth)).json()
        assert shown["active_scenario_id"] is None
        assert [h["step_id"] for h in shown["step_history"]] == ["identify", "block"]


async def test_an_agents_scenario_thresholds_are_checked_when_written(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    async with running_app(urls) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        for given, field in [
            ({"rules": []}, "configuration.rules"),
            ({"scenarios": []}, "configuration.scenarios"),
            ({"scenarios": {"entry_min_score": 2}}, "configuration.scenarios.entry_min_score"),
            (
                {"scenarios": {"transition_min_score": "high"}},
                "configuration.scenarios.transition_min_score",
            ),
        ]:
            refused = await client.post(
                "/v1/agents", headers=auth, json={"name": "strict", "configuration": given}
            )
            assert refused.status_code == 422, refused.text
            assert refused.json()["errors"][0]["field"] == field
