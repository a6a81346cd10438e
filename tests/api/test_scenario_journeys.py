"""Scenarios driving a conversation, through the API with the scripted model: entered on
the entry condition, moved by a variable and by a plain-language condition, looping no
more than its step allows, exited after its terminal step; a step's instructions and its
rules apply only there; the session's log, the turn records and the run's steps tell it."""

from __future__ import annotations

from typing import Any

import httpx

from personae.db.engine import DatabaseUrls
from tests.api.conftest import bearer, running_app
from tests.api.test_turns import SETTINGS, persona_with_models, post
from tests.scripted_openai import Script

LOST_CARD: dict[str, Any] = {
    "name": "lost-card",
    "entry_condition": "I lost my card",
    "steps": [
        {
            "name": "identify",
            "instructions": "Ask for the card's last four digits.",
            "required_variables": ["card_end"],
            "transitions": [{"to": "confirm", "expression": "len(card_end) == 4"}],
        },
        {
            "name": "confirm",
            "instructions": "Ask whether to block the card.",
            "max_loops": 2,
            "transitions": [
                {"to": "block", "condition": "yes please block the card"},
                {"to": "confirm", "fallback": True},
            ],
        },
        {"name": "block", "instructions": "Block the card.", "terminal": True},
    ],
}
BLOCKED = "Tell them the card is blocked for good."


async def _say(client: httpx.AsyncClient, auth: dict[str, str], sid: str, text: str) -> Any:
    return await post(client, auth, f"/v1/sessions/{sid}/messages", content=text)


async def test_a_conversation_moves_through_a_scenario_and_out_of_it(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    script = Script(replies=["Fine."] * 8)
    async with running_app(urls, SETTINGS) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        async with persona_with_models(client, auth, script) as sid:
            persona = (await client.get(f"/v1/sessions/{sid}", headers=auth)).json()["persona_id"]
            agent = await post(
                client,
                auth,
                "/v1/agents",
                name="card-desk",
                persona_id=persona,
                configuration={
                    "scenarios": {"entry_min_score": 0.8, "transition_min_score": 0.8},
                    "rules": {"min_score": 0.5},
                },
            )
            scenario = await post(client, auth, f"/v1/agents/{agent['id']}/scenarios", **LOST_CARD)
            await post(
                client,
                auth,
                f"/v1/agents/{agent['id']}/rules",
                name="blocked-for-good",
                condition_text="please block the card",
                scope="STEP",
                scope_id=scenario["id"],
                scope_step="block",
                action_config={"instructions": BLOCKED},
            )
            await post(client, auth, f"/v1/agents/{agent['id']}/variables", name="card_end")
            await post(  # a template scoped to the step, applied by a global rule
                client,
                auth,
                f"/v1/agents/{agent['id']}/templates",
                name="block-wording",
                content="Your card ending {{ card_end }} is blocked.",
                mode="SUGGEST",
                scope="STEP",
                scope_id=scenario["id"],
                scope_step="block",
            )
            await post(
                client,
                auth,
                f"/v1/agents/{agent['id']}/rules",
                name="wording",
                condition_text="please block the card",
                action_config={"template": "block-wording"},
            )
            session = await post(
                client, auth, "/v1/sessions", persona_id=persona, agent_id=agent["id"]
            )
            path = f"/v1/sessions/{session['id']}"

            await _say(client, auth, session["id"], "I lost my card")
            await _say(client, auth, session["id"], "please block the card")  # needs card_end
            await post(
                client,
                auth,
                f"{path}/events",
                events=[
                    {
                        "event_type": "session.updated",
                        "payload": {"variables": {"card_end": "1234"}},
                    }
                ],
            )
            await _say(client, auth, session["id"], "it ends in 1234")
            await _say(client, auth, session["id"], "hmm what")  # fallback: confirm again
            await _say(client, auth, session["id"], "hmm what")  # looped its most: stays
            last = await _say(client, auth, session["id"], "yes please block the card")
            await _say(client, auth, session["id"], "thanks a lot")  # past the end: out

            systems = [r["messages"][0]["content"] for r in script.chat_requests]
            assert ["last four digits" in s for s in systems] == [True, True] + [False] * 5
            assert ["ask the customer for: card_end" in s for s in systems] == [True, True] + [
                False
            ] * 5
            assert ["whether to block" in s for s in systems] == [False] * 2 + [True] * 3 + [
                False
            ] * 2
            assert ["Block the card." in s for s in systems] == [False] * 5 + [True, False]
            # the step's rule applies in its step only (the same words in another did not)
            assert [BLOCKED in s for s in systems] == [False] * 5 + [True, False]
            worded = "Your card ending 1234 is blocked."
            assert [worded in s for s in systems] == [False] * 5 + [True, False]

            log = (await client.get(f"{path}/events", headers=auth, params={"limit": 200})).json()
            story = [
                (e["event_type"], e["payload"].get("step_id"))
                for e in log["items"]
                if e["event_type"].startswith("scenario.")
            ]
            assert story == [
                ("scenario.entered", "identify"),
                ("scenario.step", "confirm"),
                ("scenario.step", "confirm"),
                ("scenario.step", "block"),
                ("scenario.exited", None),
            ]
            shown = (await client.get(path, headers=auth)).json()
            assert shown["active_scenario_id"] is None and shown["current_step_id"] is None

            turns = (await client.get(f"{path}/turns", headers=auth)).json()
            states = [t["scenario_state"] or {} for t in turns]
            assert states[0]["entered"] == scenario["id"] and states[0]["by"] == "condition"
            assert [s.get("step") for s in states[1:6]] == [
                "identify",
                "confirm",
                "confirm",
                "confirm",
                "block",
            ]
            assert "waits for card_end" not in str(states[1])  # no transition held
            assert "entered 2 times already" in str(states[4]["transitions"])
            assert states[6]["reason"] == "finished"
            steps = (await client.get(f"/v1/runs/{last['run']['id']}/steps", headers=auth)).json()
            [match] = [s for s in steps if s["step_type"] == "rule_match"]
            assert match["output"]["scenario"]["step"] == "block"


async def test_a_step_offers_its_tools_and_has_its_needs_computed_by_resolvers(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    script = Script(replies=["Fine."] * 3)
    async with running_app(urls, SETTINGS) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        async with persona_with_models(client, auth, script, tools=("current_time",)) as sid:
            persona = (await client.get(f"/v1/sessions/{sid}", headers=auth)).json()["persona_id"]
            agent = await post(
                client,
                auth,
                "/v1/agents",
                name="clock-desk",
                persona_id=persona,
                configuration={
                    "scenarios": {"entry_min_score": 0.8},
                    "rules": {"only_rule_tools": True},  # and the step's: no others
                },
            )
            under = f"/v1/agents/{agent['id']}"
            await post(
                client,
                auth,
                f"{under}/variables",
                name="now",
                resolver_tool_id="current_time",
                refresh="RULE_FIRE",  # never due by itself: computed because the step needs it
            )
            clock: dict[str, Any] = {
                "name": "clock",
                "entry_condition": "what time is it",
                "steps": [
                    {
                        "name": "tell",
                        "instructions": "Say the time.",
                        "required_variables": ["now"],
                        "tools": ["current_time"],
                        "transitions": [{"to": "done", "fallback": True}],
                    },
                    {"name": "done", "terminal": True},
                ],
            }
            refused = await client.post(
                f"{under}/scenarios",
                headers=auth,
                json={**clock, "steps": [{**clock["steps"][0], "tools": ["nope"]}]},
            )
            assert refused.status_code == 422
            assert refused.json()["errors"][0]["field"] == "steps.0.tools.0"
            await post(client, auth, f"{under}/scenarios", **clock)
            session = await post(
                client, auth, "/v1/sessions", persona_id=persona, agent_id=agent["id"]
            )
            await _say(client, auth, session["id"], "hello there")
            entered = await _say(client, auth, session["id"], "what time is it")
            await _say(client, auth, session["id"], "ok")

            offered = [
                [t["function"]["name"] for t in r.get("tools") or []] for r in script.chat_requests
            ]
            assert offered == [[], ["current_time"], []]
            systems = [r["messages"][0]["content"] for r in script.chat_requests]
            assert "Say the time." in systems[1] and "ask the customer for" not in systems[1]
            steps = (
                await client.get(f"/v1/runs/{entered['run']['id']}/steps", headers=auth)
            ).json()
            [computed] = [s for s in steps if s["step_type"] == "tool_call"]
            assert computed["input"] == {"name": "current_time", "variable": "now"}
            shown = (await client.get(f"/v1/sessions/{session['id']}", headers=auth)).json()
            assert shown["current_step_id"] == "done" and shown["variables"]["now"]
