"""Migration plans through the API: a scenario changed mid-conversation, sessions in
three of its steps moved by one plan (CLEAN_GRAFT, GAP_FILL with a variable collected
before going on, RE_ROUTE), each session's log telling it, a session the plan does not
cover going on in its version; deployment while turns run loses nothing and leaves no
session between versions; bad plans refused as problem+json."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from personae.db.engine import DatabaseUrls
from tests.api.conftest import bearer, running_app
from tests.api.test_turns import SETTINGS, persona_with_models, post
from tests.scripted_openai import Script

NEXT = "next please"


def _step(name: str, to: str | None = None, **more: Any) -> dict[str, Any]:
    if to is None:
        return {"name": name, "terminal": True, **more}
    return {"name": name, "transitions": [{"to": to, "condition": NEXT}], **more}


V1 = [_step("intro", "collect"), _step("collect", "review"), _step("review", "done"), _step("done")]
V2 = [
    _step("intro", "collect"),
    _step("collect", "confirm", required_variables=["email"]),
    _step("confirm", "done", instructions="Read the order back."),
    _step("done"),
]


@dataclass
class Desk:
    client: httpx.AsyncClient
    auth: dict[str, str]
    script: Script
    persona: str
    agent: str
    scenario: str

    async def session_at(self, step: str) -> str:
        made = await post(
            self.client, self.auth, "/v1/sessions", persona_id=self.persona, agent_id=self.agent
        )
        entered = {"scenario_id": self.scenario, "version": 1, "step_id": step}
        await post(
            self.client,
            self.auth,
            f"/v1/sessions/{made['id']}/events",
            events=[{"event_type": "scenario.entered", "payload": entered}],
        )
        return str(made["id"])

    async def say(self, sid: str, text: str) -> Any:
        return await post(self.client, self.auth, f"/v1/sessions/{sid}/messages", content=text)

    async def story(self, sid: str) -> list[tuple[str, Any]]:
        log = (
            await self.client.get(
                f"/v1/sessions/{sid}/events", headers=self.auth, params={"limit": 500}
            )
        ).json()["items"]
        return [
            (e["event_type"], e["payload"].get("policy") or e["payload"].get("step_id"))
            for e in log
            if e["event_type"].startswith("scenario.")
        ]

    async def standing(self, sid: str) -> tuple[int | None, str | None, Any]:
        shown = (await self.client.get(f"/v1/sessions/{sid}", headers=self.auth)).json()
        return (
            shown["active_scenario_version"],
            shown["current_step_id"],
            shown["pending_migration"],
        )


@asynccontextmanager
async def desk(urls: DatabaseUrls, owner: tuple[str, str]) -> AsyncIterator[Desk]:
    script = Script(replies=["Noted."] * 200)
    async with running_app(urls, SETTINGS) as (_app, client):
        auth = await bearer(client, *owner)
        async with persona_with_models(client, auth, script) as sid:
            persona = (await client.get(f"/v1/sessions/{sid}", headers=auth)).json()["persona_id"]
            agent = await post(
                client,
                auth,
                "/v1/agents",
                name="orders",
                persona_id=persona,
                configuration={"scenarios": {"transition_min_score": 0.8}},
            )
            scenario = await post(
                client, auth, f"/v1/agents/{agent['id']}/scenarios", name="order", steps=V1
            )
            yield Desk(client, auth, script, persona, agent["id"], scenario["id"])


async def test_one_plan_moves_three_sessions_three_ways_and_leaves_the_rest(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    async with desk(urls, fresh_owner) as d:
        at_intro, at_collect, at_review = [
            await d.session_at(s) for s in ("intro", "collect", "review")
        ]
        untouched = await d.session_at("intro")
        await d.say(at_review, "hello")  # a turn on version 1 before the change
        scenario = f"/v1/agents/{d.agent}/scenarios/{d.scenario}"
        changed = (await d.client.patch(scenario, headers=d.auth, json={"steps": V2})).json()
        assert changed["version"] == 2

        plans = f"/v1/scenarios/{d.scenario}/migration-plans"
        plan = await post(
            d.client,
            d.auth,
            plans,
            scope_filter={"session_ids": [at_intro, at_collect, at_review]},
        )
        assert (plan["status"], plan["from_version"], plan["to_version"]) == ("DRAFT", 1, 2)
        moves = plan["transformation_map"]["steps"]
        assert {name: (m["policy"], m["to"]) for name, m in moves.items()} == {
            "intro": ("CLEAN_GRAFT", "intro"),
            "collect": ("GAP_FILL", "collect"),
            "review": ("RE_ROUTE", "collect"),  # gone: to its nearest kept predecessor
            "done": ("CLEAN_GRAFT", "done"),
        }
        dry = plan["transformation_map"]["dry_run"]
        assert dry["by_policy"] == {"CLEAN_GRAFT": 1, "GAP_FILL": 1, "RE_ROUTE": 1}
        assert await d.standing(at_intro) == (1, "intro", None)  # a draft moves nothing

        one = f"{plans}/{plan['id']}"
        early = await d.client.post(f"{one}/deploy", headers=d.auth)
        assert early.status_code == 409, early.text  # not approved
        await post(d.client, d.auth, f"{one}/approve")
        again = await d.client.post(f"{one}/approve", headers=d.auth)
        assert again.status_code == 409 and again.headers["content-type"].startswith(
            "application/problem+json"
        )
        deployed = await post(d.client, d.auth, f"{one}/deploy")
        assert deployed["status"] == "DEPLOYED" and deployed["deployed_at"] is not None
        assert (await d.standing(at_collect))[2]["plan_id"] == plan["id"]  # marked, not moved

        for sid in (at_intro, at_collect, at_review, untouched):
            await d.say(sid, "hello")
        assert await d.standing(at_intro) == (2, "intro", None)
        assert await d.standing(at_collect) == (2, "collect", None)
        assert await d.standing(at_review) == (2, "collect", None)
        assert await d.standing(untouched) == (1, "intro", None)
        assert (await d.story(at_intro))[-1] == ("scenario.migrated", "CLEAN_GRAFT")
        assert (await d.story(at_collect))[-1] == ("scenario.migrated", "GAP_FILL")
        assert (await d.story(at_review))[-1] == ("scenario.migrated", "RE_ROUTE")
        assert await d.story(untouched) == [("scenario.entered", "intro")]
        asked = d.script.chat_requests[-3]["messages"][0]["content"]  # at_collect's turn
        assert "ask the customer for: email" in asked

        # the gap is filled before going on: no move without the email, then a move
        await d.say(at_collect, NEXT)
        assert (await d.standing(at_collect))[1] == "collect"
        await post(
            d.client,
            d.auth,
            f"/v1/sessions/{at_collect}/events",
            events=[
                {"event_type": "session.updated", "payload": {"variables": {"email": "a@b.c"}}}
            ],
        )
        await d.say(at_collect, NEXT)
        assert (await d.standing(at_collect))[1] == "confirm"
        await d.say(untouched, NEXT)  # version 1 still works for whom it was not moved
        assert await d.standing(untouched) == (1, "collect", None)

        listed = (await d.client.get(plans, headers=d.auth)).json()["items"]
        assert [p["status"] for p in listed] == ["DEPLOYED"]

        # a version with no plan: the sessions in version 2 keep going on it
        v3 = [*V2[:3], _step("done", instructions="Say goodbye.")]
        changed = (await d.client.patch(scenario, headers=d.auth, json={"steps": v3})).json()
        assert changed["version"] == 3
        await d.say(at_intro, NEXT)
        assert await d.standing(at_intro) == (2, "collect", None)


async def test_bad_plans_are_refused(urls: DatabaseUrls, fresh_owner: tuple[str, str]) -> None:
    async with desk(urls, fresh_owner) as d:
        plans = f"/v1/scenarios/{d.scenario}/migration-plans"
        cases: list[tuple[dict[str, Any], str]] = [
            ({}, "to_version"),  # version 1 has no version before it
            ({"from_version": 1, "to_version": 2}, "to_version"),  # no version 2 yet
        ]
        scenario = f"/v1/agents/{d.agent}/scenarios/{d.scenario}"
        for body, field in cases:
            refused = await d.client.post(plans, headers=d.auth, json=body)
            assert refused.status_code == 422, refused.text
            assert field in [e["field"] for e in refused.json()["errors"]]
        await d.client.patch(scenario, headers=d.auth, json={"steps": V2})
        await d.client.patch(scenario, headers=d.auth, json={"steps": V1})  # version 3
        more: list[tuple[dict[str, Any], str]] = [
            ({"from_version": 1, "to_version": 3}, "to_version"),  # not adjacent
            (
                {"from_version": 2, "anchor_policies": {"nowhere": {"policy": "RE_ROUTE"}}},
                "anchor_policies.nowhere",
            ),
            (
                {"from_version": 2, "anchor_policies": {"collect": {"policy": "MOVE"}}},
                "anchor_policies.collect.policy",
            ),
            (
                {
                    "from_version": 2,
                    "anchor_policies": {"collect": {"policy": "RE_ROUTE", "to": "x"}},
                },
                "anchor_policies.collect.to",
            ),
            ({"from_version": 2, "scope_filter": {"colours": ["red"]}}, "scope_filter.colours"),
            (
                {"from_version": 2, "scope_filter": {"session_ids": ["not-an-id"]}},
                "scope_filter.session_ids",
            ),
        ]
        for body, field in more:
            refused = await d.client.post(plans, headers=d.auth, json=body)
            assert refused.status_code == 422, (body, refused.text)
            assert field in [e["field"] for e in refused.json()["errors"]], refused.text
        told = await post(
            d.client,
            d.auth,
            plans,
            from_version=2,
            anchor_policies={"confirm": {"policy": "RE_ROUTE", "to": "intro"}},
        )
        assert told["transformation_map"]["steps"]["confirm"] == {
            "policy": "RE_ROUTE",
            "to": "intro",
            "why": "told",
        }
        unknown = await d.client.post(
            f"/v1/scenarios/{d.agent}/migration-plans", headers=d.auth, json={}
        )
        assert unknown.status_code == 404
        scopes = ["scenarios:read", "scenarios:update"]  # may plan, may not approve
        token = await post(d.client, d.auth, "/v1/tokens", name="planner", scopes=scopes)
        planner = {"Authorization": f"Bearer {token['token']}"}
        drafted = await d.client.post(plans, headers=planner, json={"from_version": 2})
        assert drafted.status_code == 201, drafted.text
        refused = await d.client.post(f"{plans}/{drafted.json()['id']}/approve", headers=planner)
        assert refused.status_code == 403 and "scenarios:approve" in refused.text


async def test_deploying_while_turns_run_loses_nothing_and_splits_no_session(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    async with desk(urls, fresh_owner) as d:
        sids = [await d.session_at("intro") for _ in range(6)]
        scenario = f"/v1/agents/{d.agent}/scenarios/{d.scenario}"
        await d.client.patch(scenario, headers=d.auth, json={"steps": V2})
        plans = f"/v1/scenarios/{d.scenario}/migration-plans"
        plan = await post(d.client, d.auth, plans)
        await post(d.client, d.auth, f"{plans}/{plan['id']}/approve")

        async def talk(sid: str) -> None:
            for _ in range(3):
                await d.say(sid, "hello")

        async def deploy() -> None:
            await asyncio.sleep(0)  # among the turns, not before them
            await post(d.client, d.auth, f"{plans}/{plan['id']}/deploy")

        await asyncio.gather(*(talk(sid) for sid in sids), deploy())
        for sid in sids:
            await d.say(sid, "hello")  # every session's next turn after the deployment
        for sid in sids:
            story = await d.story(sid)
            migrated = [s for s in story if s[0] == "scenario.migrated"]
            assert migrated == [("scenario.migrated", "CLEAN_GRAFT")], story
            assert await d.standing(sid) == (2, "intro", None)
            log = (
                await d.client.get(
                    f"/v1/sessions/{sid}/events", headers=d.auth, params={"limit": 500}
                )
            ).json()["items"]
            assert [e["seq"] for e in log] == list(range(1, len(log) + 1))
            said = [e for e in log if e["event_type"] == "message.user"]
            answered = [e for e in log if e["event_type"] == "message.assistant"]
            assert len(said) == len(answered) == 4
