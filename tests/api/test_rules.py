"""Rules through the API: written and embedded, matched on every turn of an agent's
session (the instruction reaches the model's prompt, the match is recorded), held to their
cooldown and most fires across turns; bad rules refused naming the field; imports by
name."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from personae.db.engine import DatabaseUrls
from tests.api.conftest import bearer, running_app
from tests.api.test_turns import SETTINGS, persona_with_models, post
from tests.scripted_openai import Script

STOLEN = {
    "name": "stolen-card",
    "condition_text": "the customer says their card was stolen",
    "examples": ["my card was stolen", "someone stole my bank card"],
    "action_config": {"instructions": "Freeze the card before anything else."},
    "cooldown_turns": 1,
    "max_fires_per_session": 2,
}
WEATHER = {
    "name": "weather",
    "condition_text": "the customer asks about tomorrow's weather forecast",
    "action_config": {"instructions": "Say you cannot forecast the weather."},
}


async def _agent_session(client: httpx.AsyncClient, auth: dict[str, str], sid: str) -> Any:
    persona = (await client.get(f"/v1/sessions/{sid}", headers=auth)).json()
    agent = await post(
        client,
        auth,
        "/v1/agents",
        name="bank-clerk",
        persona_id=persona["persona_id"],
        configuration={"rules": {"min_score": 0.3}},
    )
    session = await post(
        client, auth, "/v1/sessions", persona_id=persona["persona_id"], agent_id=agent["id"]
    )
    return agent, session


async def test_a_matched_rule_reaches_the_prompt_within_its_cooldown_and_fires(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    script = Script(replies=["Done."] * 5)
    async with running_app(urls, SETTINGS) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        async with persona_with_models(client, auth, script) as sid:
            agent, session = await _agent_session(client, auth, sid)
            rules = f"/v1/agents/{agent['id']}/rules"
            await post(client, auth, rules, **STOLEN)
            await post(client, auth, rules, **WEATHER)
            runs = []
            for _ in range(4):  # fires, cools down, fires, has fired its most
                done = await post(
                    client,
                    auth,
                    f"/v1/sessions/{session['id']}/messages",
                    content="Help, my card was stolen this morning!",
                )
                runs.append(done["run"]["id"])
            told = [r["messages"][0]["content"] for r in script.chat_requests]
            freeze = "Freeze the card before anything else."
            assert [freeze in system for system in told] == [True, False, True, False]
            assert not any("forecast" in system for system in told)

            steps = (await client.get(f"/v1/runs/{runs[0]}/steps", headers=auth)).json()
            [match] = [s for s in steps if s["step_type"] == "rule_match"]
            kept = [c for c in match["output"]["candidates"] if c["kept"]]
            assert [c["name"] for c in kept] == ["stolen-card"]
            turns = (await client.get(f"/v1/sessions/{session['id']}/turns", headers=auth)).json()
            recorded = [[m["name"] for m in t["rules_matched"]] for t in turns]
            assert recorded == [["stolen-card"], [], ["stolen-card"], []]


async def refused_naming(
    client: httpx.AsyncClient, auth: dict[str, str], cases: list[tuple[str, Any, str]]
) -> None:
    """Each body POSTed to its path is a 422 problem naming its field."""
    for path, body, field in cases:
        refused = await client.post(path, headers=auth, json=body)
        assert refused.status_code == 422, (body, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert field in [e["field"] for e in refused.json()["errors"]], refused.text


async def test_bad_rules_are_refused_naming_the_field(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    async with running_app(urls, SETTINGS) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        agent = await post(client, auth, "/v1/agents", name="strict")
        rules = f"/v1/agents/{agent['id']}/rules"
        cases = [
            ({**WEATHER, "condition_text": ""}, "condition_text"),
            ({**WEATHER, "condition_text": "   "}, "condition_text"),
            ({**WEATHER, "scope": "SCENARIO", "scope_id": agent["id"]}, "scope_id"),
            ({**WEATHER, "scope": "STEP"}, "scope_id"),
            ({**WEATHER, "examples": [""]}, "examples.0"),
            ({**WEATHER, "cooldown_turns": -1}, "cooldown_turns"),
        ]
        await refused_naming(client, auth, [(rules, body, field) for body, field in cases])
        await post(client, auth, rules, **WEATHER)
        again = await client.post(rules, headers=auth, json=WEATHER)
        assert again.status_code == 409, again.text


async def test_an_import_puts_rules_by_name_and_the_same_import_changes_nothing(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    async with running_app(urls, SETTINGS) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        agent = await post(client, auth, "/v1/agents", name="importer")
        rules = f"/v1/agents/{agent['id']}/rules"
        first = await post(client, auth, f"{rules}/import", rules=[STOLEN, WEATHER])
        assert first == {"created": 2, "updated": 0, "unchanged": 0}
        again = await post(client, auth, f"{rules}/import", rules=[STOLEN, WEATHER])
        assert again == {"created": 0, "updated": 0, "unchanged": 2}
        changed = {**WEATHER, "priority": 3}
        third = await post(client, auth, f"{rules}/import", rules=[changed])
        assert third == {"created": 0, "updated": 1, "unchanged": 0}
        exported = (await client.get(f"{rules}/export", headers=auth)).json()
        assert [r["name"] for r in exported] == ["stolen-card", "weather"]
        assert exported[1]["priority"] == 3 and exported[0]["examples"] == STOLEN["examples"]
        back = await post(client, auth, f"{rules}/import", rules=exported)
        assert back == {"created": 0, "updated": 0, "unchanged": 2}


async def test_a_large_import_refreshes_the_planners_statistics(
    urls: DatabaseUrls, fresh_owner: tuple[str, str], owner_engine: AsyncEngine
) -> None:
    """Right after thousands of phrasings arrive the planner would take the table for as
    small as it was and scan it all on every turn: the import analyzes it."""
    async with running_app(urls, SETTINGS) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        agent = await post(client, auth, "/v1/agents", name="many")
        many = [
            {
                "name": f"intent-{n}",
                "condition_text": f"the customer asks about product {n}",
                "examples": [f"tell me about product {n} please {m}" for m in range(5)],
            }
            for n in range(100)
        ]
        async with owner_engine.connect() as conn:
            before = await conn.scalar(ANALYZED)
        await post(client, auth, f"/v1/agents/{agent['id']}/rules/import", rules=many)
        async with owner_engine.connect() as conn:
            after = await conn.scalar(ANALYZED)
        assert after is not None and (before is None or after > before)


ANALYZED = text("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'rule_phrasings'")
