"""What a matched rule does, through the API with the scripted model: its tool offered and
used (alone, when the agent says so), its variables set and its EXCLUSIVE template
answering without a model call, a template that cannot render recorded and the model
answering instead, a guard that fails regenerating and then falling back; and bad
templates, variables, actions and guards refused naming the field."""

from __future__ import annotations

from typing import Any

import httpx

from personae.db.engine import DatabaseUrls
from tests.api.conftest import bearer, running_app
from tests.api.test_rules import refused_naming
from tests.api.test_turns import SETTINGS, persona_with_models, post
from tests.scripted_openai import Script, scripted_openai

ARITHMETIC = {
    "name": "arithmetic",
    "condition_text": "the customer asks to multiply or add numbers",
    "examples": ["what is 6 times 7", "add 12 and 30 for me"],
    "action_config": {"instructions": "Use the calculator.", "tools": ["calculator"]},
}
STOLEN = {
    "name": "stolen-card",
    "condition_text": "the customer says their card was stolen",
    "examples": ["my card was stolen", "someone stole my bank card"],
    "action_config": {"template": "frozen", "variables": {"card_end": "4242"}},
}
GUARDS = {
    "checks": [
        {
            "name": "no_guarantees",
            "expression": "not contains(lower(answer), 'guarantee')",
            "says": "Never guarantee an outcome.",
        }
    ],
    "regenerations": 1,
}


async def _agent(
    client: httpx.AsyncClient, auth: dict[str, str], sid: str, **configuration: Any
) -> tuple[dict[str, Any], str]:
    persona = (await client.get(f"/v1/sessions/{sid}", headers=auth)).json()
    agent = await post(
        client,
        auth,
        "/v1/agents",
        name="clerk",
        persona_id=persona["persona_id"],
        configuration={"rules": {"min_score": 0.3}, **configuration},
    )
    return agent, persona["persona_id"]


async def _say(client: httpx.AsyncClient, auth: dict[str, str], session: str, text: str) -> Any:
    return await post(client, auth, f"/v1/sessions/{session}/messages", content=text)


async def _steps(client: httpx.AsyncClient, auth: dict[str, str], run: Any) -> list[Any]:
    found = await client.get(f"/v1/runs/{run['run']['id']}/steps", headers=auth)
    return list(found.json())


async def test_a_rules_tool_is_offered_and_used_and_alone_when_the_agent_says_so(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    script = Script(
        replies=[
            {"tool_calls": [{"name": "calculator", "arguments": {"expression": "6 * 7"}}]},
            "It is 42.",
            "I cannot tell the weather.",
        ]
    )
    async with running_app(urls, SETTINGS) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        tools = ("calculator", "current_time")
        async with persona_with_models(client, auth, script, tools=tools) as sid:
            agent, persona = await _agent(
                client, auth, sid, rules={"min_score": 0.3, "only_rule_tools": True}
            )
            await post(client, auth, f"/v1/agents/{agent['id']}/rules", **ARITHMETIC)
            session = await post(
                client, auth, "/v1/sessions", persona_id=persona, agent_id=agent["id"]
            )
            done = await _say(client, auth, session["id"], "What is 6 times 7?")
            assert done["content"] == "It is 42."
            first, second, *_ = script.chat_requests
            assert {t["function"]["name"] for t in first["tools"]} == {"calculator"}
            assert "Use the calculator." in first["messages"][0]["content"]
            assert second["messages"][-1]["role"] == "tool"
            assert '"result": 42' in second["messages"][-1]["content"]
            [match] = [
                s for s in await _steps(client, auth, done) if s["step_type"] == "rule_match"
            ]
            assert match["output"]["tools"] == ["calculator"]

            await _say(client, auth, session["id"], "Will it rain in Lisbon tomorrow?")
            assert not script.chat_requests[2].get("tools")  # no rule: no tool offered


async def test_an_exclusive_template_answers_without_the_model_and_sets_variables(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    script = Script(replies=["The model answers."])
    async with running_app(urls, SETTINGS) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        async with persona_with_models(client, auth, script) as sid:
            agent, persona = await _agent(client, auth, sid)
            under = f"/v1/agents/{agent['id']}"
            unknown = await client.post(
                f"{under}/templates",
                headers=auth,
                json={"name": "frozen", "content": "Card {{ card_end }} is frozen."},
            )
            assert unknown.status_code == 422, unknown.text  # no such variable yet
            [error] = unknown.json()["errors"]
            assert error["field"] == "content" and "card_end" in error["message"]
            await post(client, auth, f"{under}/variables", name="card_end", default_value="0000")
            await post(
                client,
                auth,
                f"{under}/templates",
                name="frozen",
                mode="EXCLUSIVE",
                content="Card ending {{ card_end }} is frozen, "
                "{{ profile.display_name | default('friend') }}.",
            )
            await post(client, auth, f"{under}/rules", **STOLEN)
            session = await post(
                client, auth, "/v1/sessions", persona_id=persona, agent_id=agent["id"]
            )
            done = await _say(client, auth, session["id"], "Help, my card was stolen!")
            assert done["content"] == "Card ending 4242 is frozen, friend."
            assert script.chat_requests == []  # no model call
            kinds = [s["step_type"] for s in await _steps(client, auth, done)]
            assert "template" in kinds and "llm_call" not in kinds
            stored = (await client.get(f"/v1/sessions/{session['id']}", headers=auth)).json()
            assert stored["variables"] == {"card_end": "4242"}
            ann = await post(client, auth, "/v1/customer-profiles", display_name="Ann")
            theirs = await post(
                client,
                auth,
                "/v1/sessions",
                persona_id=persona,
                agent_id=agent["id"],
                customer_profile_id=ann["id"],
            )
            named = await _say(client, auth, theirs["id"], "Someone stole my bank card!")
            assert named["content"] == "Card ending 4242 is frozen, Ann."  # their profile
            assert script.chat_requests == []

            # a template whose value is missing when it renders: recorded, the model answers
            await post(
                client,
                auth,
                f"{under}/templates",
                name="tiered",
                mode="EXCLUSIVE",
                content="Dear {{ profile.tier }} member.",
            )
            await post(
                client,
                auth,
                f"{under}/rules",
                name="greeting",
                condition_text="the customer says hello",
                examples=["hello there", "hi, good morning"],
                action_config={"template": "tiered"},
            )
            greeted = await _say(client, auth, session["id"], "Hello there, good morning!")
            assert greeted["content"] == "The model answers."
            [failed] = [
                s for s in await _steps(client, auth, greeted) if s["step_type"] == "template"
            ]
            assert "tier" in failed["output"]["error"]


async def test_a_failed_guard_regenerates_then_falls_back(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    script = Script(
        replies=[
            "We guarantee a refund.",
            "I guarantee it, truly.",
            "We guarantee nothing less.",
            "We will look into it.",
        ]
    )
    async with running_app(urls, SETTINGS) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        async with persona_with_models(client, auth, script) as sid:
            agent, persona = await _agent(client, auth, sid, guards=GUARDS)
            await post(
                client,
                auth,
                f"/v1/agents/{agent['id']}/templates",
                name="apology",
                mode="FALLBACK",
                content="A colleague will follow up with you.",
            )
            session = await post(
                client, auth, "/v1/sessions", persona_id=persona, agent_id=agent["id"]
            )
            done = await _say(client, auth, session["id"], "Will I get my money back?")
            assert done["content"] == "A colleague will follow up with you."
            assert len(script.chat_requests) == 2  # the answer, then once more
            told = script.chat_requests[1]["messages"][-1]
            assert told["role"] == "user" and "Never guarantee an outcome." in told["content"]
            steps = await _steps(client, auth, done)
            guards = [s["output"]["passed"] for s in steps if s["step_type"] == "guard"]
            assert guards == [False, False]
            assert [s["step_type"] for s in steps][-2:] == ["template", "message"]

            again = await _say(client, auth, session["id"], "And the fee?")
            assert again["content"] == "We will look into it."  # passed on the second try
            messages = await client.get(f"/v1/sessions/{session['id']}/messages", headers=auth)
            answers = [m["content"] for m in messages.json() if m["role"] == "assistant"]
            assert answers == ["A colleague will follow up with you.", "We will look into it."]


async def test_bad_templates_variables_actions_and_guards_are_refused_naming_the_field(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    async with running_app(urls, SETTINGS) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        agent = await post(client, auth, "/v1/agents", name="strict")
        under = f"/v1/agents/{agent['id']}"
        guard = {"name": "g", "expression": "len(answer) <"}
        cases = [
            (
                "/v1/agents",
                {"name": "a2", "configuration": {"guards": {"checks": [guard]}}},
                "configuration.guards.checks.0.expression",
            ),
            (
                "/v1/agents",
                {"name": "a3", "configuration": {"rules": {"k": 0}}},
                "configuration.rules.k",
            ),
            (f"{under}/templates", {"name": "t", "content": "{{ x "}, "content"),
            (
                f"{under}/templates",
                {"name": "t", "content": "{{ 'a'.upper() }}", "mode": "NOPE"},
                "mode",
            ),
            (f"{under}/variables", {"name": "1st"}, "name"),
            (f"{under}/variables", {"name": "answer"}, "name"),
            (
                f"{under}/variables",
                {"name": "v", "resolver_tool_id": "no-such-tool"},
                "resolver_tool_id",
            ),
            (
                f"{under}/rules",
                {**STOLEN, "action_config": {"template": "none"}},
                "action_config.template",
            ),
            (
                f"{under}/rules",
                {**STOLEN, "action_config": {"tools": ["no-such-tool"]}},
                "action_config.tools.0",
            ),
            (
                f"{under}/rules",
                {**STOLEN, "action_config": {"variables": {"x": 1}}},
                "action_config.variables.x",
            ),
            (
                f"{under}/rules",
                {**STOLEN, "action_config": {"instrucions": "typo"}},
                "action_config.instrucions",
            ),
            (
                f"{under}/rules",
                {**STOLEN, "action_config": {}, "filter_expression": "a ="},
                "filter_expression",
            ),
        ]
        await refused_naming(client, auth, cases)


async def test_the_utility_model_confirms_rules_and_judges_plain_guards(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    script = Script(replies=["You should sue them.", "Please ask a lawyer."])
    judge = Script(replies=['{"numbers": []}', '{"numbers": [1]}', 'Sure: {"numbers": []}'])
    guards = {
        "checks": [{"name": "no_legal_advice", "check": "The answer gives no legal advice"}],
        "regenerations": 1,
    }
    async with running_app(urls, SETTINGS) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        async with (
            persona_with_models(client, auth, script) as sid,
            scripted_openai(judge) as judge_url,
        ):
            await post(
                client,
                auth,
                "/v1/model-configs",
                name="judge",
                model_type="utility",
                provider="openai",
                model_name="scripted-judge",
                base_url=judge_url,
            )
            agent, persona = await _agent(
                client, auth, sid, rules={"min_score": 0.3, "verify": True}, guards=guards
            )
            stolen = {**STOLEN, "action_config": {"instructions": "Freeze the card first."}}
            await post(client, auth, f"/v1/agents/{agent['id']}/rules", **stolen)
            session = await post(
                client, auth, "/v1/sessions", persona_id=persona, agent_id=agent["id"]
            )
            done = await _say(client, auth, session["id"], "My card was stolen, can I sue?")
            assert done["content"] == "Please ask a lawyer."
            assert "Freeze the card first." not in script.chat_requests[0]["messages"][0]["content"]
            asked = [r["messages"][-1]["content"] for r in judge.chat_requests]
            assert "1. the customer says their card was stolen" in asked[0]
            assert "You should sue them." in asked[1] and "Please ask a lawyer." in asked[2]
            steps = await _steps(client, auth, done)
            [verified] = [s for s in steps if s["step_type"] == "rule_verification"]
            assert verified["output"]["confirmed"] == []
            assert verified["output"]["usage"]["input_tokens"] > 0
            guarded = [s["output"]["passed"] for s in steps if s["step_type"] == "guard"]
            assert guarded == [False, True]
            turns = (await client.get(f"/v1/sessions/{session['id']}/turns", headers=auth)).json()
            assert turns[0]["rules_matched"] == []  # not confirmed: not applied, not fired


async def test_a_variable_is_computed_by_its_tool_and_held_for_its_ttl(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    script = Script(replies=["It is late.", "Still late."])
    async with running_app(urls, SETTINGS) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        async with persona_with_models(client, auth, script, tools=("current_time",)) as sid:
            agent, persona = await _agent(client, auth, sid)
            under = f"/v1/agents/{agent['id']}"
            await post(
                client, auth, f"{under}/variables", name="timezone", default_value="Asia/Tokyo"
            )
            await post(
                client,
                auth,
                f"{under}/variables",
                name="now",
                resolver_tool_id="current_time",
                refresh="TURN",
                ttl_seconds=3600,
            )
            await post(
                client,
                auth,
                f"{under}/rules",
                name="clock",
                condition_text="the customer asks what time it is",
                examples=["what time is it now", "tell me the time"],
                action_config={"instructions": "The time in {{ timezone }} is {{ now }}."},
            )
            session = await post(
                client, auth, "/v1/sessions", persona_id=persona, agent_id=agent["id"]
            )
            first = await _say(client, auth, session["id"], "What time is it now?")
            system = script.chat_requests[0]["messages"][0]["content"]
            assert "The time in Asia/Tokyo is " in system and "+09:00." in system
            [computed] = [
                s for s in await _steps(client, auth, first) if s["step_type"] == "tool_call"
            ]
            assert computed["input"] == {"name": "current_time", "variable": "now"}
            stored = (await client.get(f"/v1/sessions/{session['id']}", headers=auth)).json()
            values = stored["variables"]
            assert values["now"] in system and "now" in values["@resolved"]

            second = await _say(client, auth, session["id"], "Tell me the time again?")
            kinds = [s["step_type"] for s in await _steps(client, auth, second)]
            assert "tool_call" not in kinds  # within its TTL: not computed again
            assert values["now"] in script.chat_requests[1]["messages"][0]["content"]
