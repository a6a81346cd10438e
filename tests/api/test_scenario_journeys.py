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
