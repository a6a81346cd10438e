"""Turns through the API, against scripted OpenAI-compatible servers on 127.0.0.1: the
tool-call loop (a permitted tool runs, a forbidden one is refused and the model told);
fallback when the primary fails, each attempt recorded; every model down fails the run
with nothing half-written; history trimmed to a small context length; the neuromodulators'
parameters sent and decayed."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from personae.api.app import create_app
from personae.db.engine import DatabaseUrls
from personae.runtime.runs import fail_stale
from personae.settings import Settings
from personae.startup import prepare_database
from tests.api.conftest import MASTER_KEY, bearer, running_app
from tests.scripted_openai import Script, scripted_openai
from tests.serving import on_loopback
from tests.waiting import eventually, soon

SETTINGS = Settings(  # a new database connection may take seconds on a busy CI machine
    connect_timeout_s=15, embedder="hashing", turn_model_timeout_s=1.0, tool_retry_base_s=0.01
)


async def post(client: httpx.AsyncClient, auth: dict[str, str], path: str, **body: Any) -> Any:
    response = await client.post(path, headers=auth, json=body)
    assert response.is_success, response.text
    return response.json()


async def ended(
    client: httpx.AsyncClient, auth: dict[str, str], run_id: str, *, within_s: float = 5
) -> Any:
    """The run once it is no longer running (the test fails if it runs past `within_s`)."""

    async def over() -> Any:
        run = (await client.get(f"/v1/runs/{run_id}", headers=auth)).json()
        return run if run["status"] != "running" else None

    return await eventually(over, within_s=within_s)


@asynccontextmanager
async def persona_with_models(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    *scripts: Script,
    tools: tuple[str, ...] = (),
    context_length: int | None = None,
    rpm: int | None = None,
    neuromodulators: dict[str, float] | None = None,
    providers: tuple[str, ...] = (),
) -> AsyncIterator[str]:
    """A persona whose models are the scripted servers (the first the default, the rest
    fallbacks; each `openai` unless `providers` says otherwise), granted `tools`; a
    session of it: its id."""
    async with AsyncExitStack() as stack:
        names = []
        for index, script in enumerate(scripts):
            base_url = await stack.enter_async_context(scripted_openai(script))
            provider = providers[index] if index < len(providers) else "openai"
            if provider == "anthropic":
                base_url = base_url.removesuffix("/v1")  # the SDK adds /v1/messages
            name = f"model-{index}"
            await post(
                client,
                auth,
                "/v1/model-configs",
                name=name,
                provider=provider,
                model_name=f"scripted-{index}",
                base_url=base_url,
                context_length=context_length,
                rpm=rpm,
            )
            names.append(name)
        persona = await post(
            client,
            auth,
            "/v1/personas",
            name="Harbour guide",
            system_prompt="You guide visitors around the harbour.",
            default_provider=names[0],
            fallback_providers=names[1:],
            neuromodulators={"dopamine": 0.9} if neuromodulators is None else neuromodulators,
        )
        listed = (await client.get("/v1/tools", headers=auth, params={"limit": 500})).json()
        ids = {t["name"]: t["id"] for t in listed["items"]}
        for name in tools:
            await post(client, auth, f"/v1/personas/{persona['id']}/tools", tool_id=ids[name])
        session = await post(client, auth, "/v1/sessions", persona_id=persona["id"])
        yield session["id"]


async def test_the_model_calls_a_tool_gets_its_result_and_answers(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    script = Script(
        replies=[
            {"tool_calls": [{"name": "calculator", "arguments": {"expression": "6 * 7"}}]},
            {"tool_calls": [{"name": "current_time", "arguments": {}}]},
            "Forty-two boats, and I cannot tell the time.",
        ]
    )
    async with running_app(urls, SETTINGS) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        async with persona_with_models(client, auth, script, tools=("calculator",)) as sid:
            done = await post(
                client, auth, f"/v1/sessions/{sid}/messages", content="How many boats?"
            )
            assert done["content"] == "Forty-two boats, and I cannot tell the time."
            assert done["run"]["status"] == "completed"
            assert done["run"]["trace_id"] == f"run-{done['run']['id']}"
            audited = await client.get(
                "/v1/audit", headers=auth, params={"event_type": "run.start"}
            )
            [started] = audited.json()["items"]  # who started which run, with its trace
            assert started["resource_id"] == done["run"]["id"]
            assert started["event_data"]["trace_id"] == done["run"]["trace_id"]
            logged = (await client.get(f"/v1/sessions/{sid}/events", headers=auth)).json()
            [asked] = [e for e in logged["items"] if e["event_type"] == "message.user"]
            assert started["event_data"]["from_seq"] == asked["seq"]  # what started it

            second, third = script.chat_requests[1]["messages"], script.chat_requests[2]["messages"]
            assert second[-1]["role"] == "tool" and '"result": 42' in second[-1]["content"]
            assert third[-1]["role"] == "tool" and "denied" in third[-1]["content"]  # told
            assert "not permitted" in third[-1]["content"]
            offered = {t["function"]["name"] for t in script.chat_requests[0]["tools"]}
            assert offered == {"calculator"}  # only what the persona may use
            assert script.chat_requests[0]["temperature"] == 0.875  # dopamine 0.9, serotonin 0.5

            messages = (await client.get(f"/v1/sessions/{sid}/messages", headers=auth)).json()
            assert [m["role"] for m in messages] == [
                "user",
                "assistant",
                "tool",
                "assistant",
                "tool",
                "assistant",
            ]
            steps = (await client.get(f"/v1/runs/{done['run']['id']}/steps", headers=auth)).json()
            kinds = [s["step_type"] for s in steps]
            assert kinds[:4] == [
                "memory_retrieval",
                "rag_retrieval",
                "rule_match",
                "prompt_assembly",
            ]
            assert kinds.count("llm_call") == 3 and kinds.count("tool_call") == 2
            assert kinds[-1] == "message" and all(s["duration_ms"] >= 0 for s in steps)
            llm = next(s for s in steps if s["step_type"] == "llm_call")
            assert llm["output"]["parameters"]["temperature"] == 0.875
            turns = (await client.get(f"/v1/sessions/{sid}/turns", headers=auth)).json()
            assert turns[0]["turn_number"] == 1 and len(turns[0]["tools_executed"]) == 2

            persona = (await client.get("/v1/personas", headers=auth)).json()["items"][0]
            assert 0.5 < persona["neuromodulators"]["dopamine"] < 0.9  # one turn of decay


async def test_an_agent_speaks_with_its_own_prompt_models_and_tools(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    personas_model = Script(replies=["The persona's model answered."])
    agents_model = Script(
        replies=[
            {"tool_calls": [{"name": "calculator", "arguments": {"expression": "1 + 1"}}]},
            "The night clerk answers.",
        ]
    )
    async with running_app(urls, SETTINGS) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        granted = ("calculator", "current_time")
        async with persona_with_models(
            client, auth, personas_model, agents_model, tools=granted
        ) as persona_session:
            persona = (await client.get(f"/v1/sessions/{persona_session}", headers=auth)).json()
            agent = await post(
                client,
                auth,
                "/v1/agents",
                name="night-clerk",
                persona_id=persona["persona_id"],
                system_prompt_override="You are the night clerk.",
                default_model="model-1",  # the persona's fallback, as this agent's default
                tool_permissions=["current_time"],  # replaces the persona's grants
            )
            configs = (await client.get("/v1/model-configs", headers=auth)).json()
            [agents_config] = [c for c in configs if c["name"] == "model-1"]
            priced = await client.patch(
                f"/v1/model-configs/{agents_config['id']}",
                headers=auth,
                json={"input_cost_per_mtok": 2.0, "output_cost_per_mtok": 8.0},
            )
            assert priced.is_success, priced.text
            session = await post(
                client, auth, "/v1/sessions", persona_id=persona["persona_id"], agent_id=agent["id"]
            )
            done = await post(
                client, auth, f"/v1/sessions/{session['id']}/messages", content="Add one and one."
            )
            assert done["content"] == "The night clerk answers."
            assert done["run"]["agent_id"] == agent["id"]
            assert personas_model.chat_requests == []  # the agent's model, not the persona's
            first, second = agents_model.chat_requests
            assert first["messages"][0] == {"role": "system", "content": "You are the night clerk."}
            assert {t["function"]["name"] for t in first["tools"]} == {"current_time"}
            told = second["messages"][-1]  # the calculator is the persona's, not the agent's
            assert told["role"] == "tool" and "not permitted" in told["content"]
            steps = (await client.get(f"/v1/runs/{done['run']['id']}/steps", headers=auth)).json()
            calls = [s["output"]["usage"] for s in steps if s["step_type"] == "llm_call"]
            assert [c["output_tokens"] for c in calls] == [0, 4]  # each call's own usage
            for call in calls:  # priced by the agent's model config
                cost = (call["input_tokens"] * 2.0 + call["output_tokens"] * 8.0) / 1_000_000
                assert call["input_tokens"] > 0 and call["cost_usd"] == pytest.approx(cost)
            run = (await client.get(f"/v1/runs/{done['run']['id']}", headers=auth)).json()
            assert run["token_usage"]["output_tokens"] == 4
            assert run["token_usage"]["input_tokens"] == sum(c["input_tokens"] for c in calls)

            # the persona alone still speaks as itself, with its own model and tools
            alone = await post(
                client, auth, f"/v1/sessions/{persona_session}/messages", content="Hello?"
            )
            assert alone["content"] == "The persona's model answered."
            [asked] = personas_model.chat_requests
            assert asked["messages"][0]["content"].startswith("You guide visitors")
            assert {t["function"]["name"] for t in asked["tools"]} == set(granted)

            # the agent's own fallbacks: its model down, the next one it names answers
            changed = await client.patch(
                f"/v1/agents/{agent['id']}", headers=auth, json={"fallback_models": ["model-0"]}
            )
            assert changed.is_success, changed.text
            agents_model.down = True
            personas_model.replies = ["The fallback answered."]
            fell = await post(
                client, auth, f"/v1/sessions/{session['id']}/messages", content="Anyone?"
            )
            assert fell["content"] == "The fallback answered."
            steps = (await client.get(f"/v1/runs/{fell['run']['id']}/steps", headers=auth)).json()
            llm = next(s for s in steps if s["step_type"] == "llm_call")
            assert [(a["config"], a["outcome"]) for a in llm["output"]["attempts"]] == [
                ("model-1", "unavailable"),
                ("model-0", "answered"),
            ]
            assert personas_model.chat_requests[-1]["messages"][0]["content"] == (
                "You are the night clerk."  # the agent's prompt, whichever model answers
            )


async def test_a_models_new_key_is_used_from_the_next_turn(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    script = Script(replies=["Keyed."])
    async with running_app(urls, SETTINGS) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        async with persona_with_models(client, auth, script) as sid:
            [config] = (await client.get("/v1/model-configs", headers=auth)).json()
            for key in ("sk-first-key", "sk-rotated-key"):
                changed = await client.patch(
                    f"/v1/model-configs/{config['id']}", headers=auth, json={"api_key": key}
                )
                assert changed.is_success, changed.text
                await post(client, auth, f"/v1/sessions/{sid}/messages", content="Hi!")
                assert script.chat_keys[-1] == key
            # the key's secret is the config's: the vault's own API may not replace it
            refused = await client.put(
                "/v1/secrets",
                headers=auth,
                json={
                    "key_name": f"model_config:{config['id']}",
                    "secret_type": "llm_provider_key",
                    "value": "sk-from-the-vault",
                },
            )
            assert refused.status_code == 403, refused.text
            await post(client, auth, f"/v1/sessions/{sid}/messages", content="Hi again!")
            assert script.chat_keys[-1] == "sk-rotated-key"


async def test_the_fallback_answers_and_all_down_fails_cleanly(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    # an Anthropic model first, an OpenAI-compatible one as its fallback
    primary = Script(chat_failures=[None, 500], replies=["From Claude."])
    backup = Script(replies=["From the backup."])
    async with running_app(urls, SETTINGS) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        chain = ("anthropic", "openai")
        async with persona_with_models(client, auth, primary, backup, providers=chain) as sid:
            done = await post(client, auth, f"/v1/sessions/{sid}/messages", content="Hi!")
            assert done["content"] == "From Claude.", done
            sent = primary.chat_requests[0]  # the Messages API: the system prompt apart
            assert sent["system"].startswith("You guide visitors")
            assert sent["messages"][-1] == {"role": "user", "content": "Hi!"}
            done = await post(client, auth, f"/v1/sessions/{sid}/messages", content="Hello?")
            assert done["content"] == "From the backup."
            steps = (await client.get(f"/v1/runs/{done['run']['id']}/steps", headers=auth)).json()
            llm = next(s for s in steps if s["step_type"] == "llm_call")
            assert [(a["config"], a["outcome"]) for a in llm["output"]["attempts"]] == [
                ("model-0", "unavailable"),
                ("model-1", "answered"),
            ]

            primary.down = backup.down = True
            failed = await post(client, auth, f"/v1/sessions/{sid}/messages", content="Anyone?")
            assert failed["run"]["status"] == "failed" and failed["content"] is None
            assert "model-0" in failed["error"] and "model-1" in failed["error"]
            events = (await client.get(f"/v1/sessions/{sid}/events", headers=auth)).json()["items"]
            assert events[-1]["event_type"] == "run.failed"
            messages = (await client.get(f"/v1/sessions/{sid}/messages", headers=auth)).json()
            assert [m["role"] for m in messages][-2:] == ["assistant", "user"]  # no answer


async def test_history_is_trimmed_to_the_context_length(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    script = Script(replies=["Noted."])
    async with running_app(urls, SETTINGS) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        async with persona_with_models(client, auth, script, context_length=1400) as sid:
            for index in range(8):
                await post(
                    client,
                    auth,
                    f"/v1/sessions/{sid}/messages",
                    content=f"Note {index}: " + "wave " * 60,
                )
            sent = script.chat_requests[-1]["messages"]
            assert sent[-1]["content"].startswith("Note 7:")
            assert not any(m["content"] and m["content"].startswith("Note 0:") for m in sent)
            assert sum(len(m["content"] or "") for m in sent) // 4 < 1400


async def test_the_first_steps_show_while_the_model_thinks_and_a_quick_turn_ends_at_once(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    """Events of one transaction share its time: a quick model's turn writes its first
    steps with its end; a slow one's are written (and watched) while it thinks."""
    script = Script(replies=["Quick.", "Slow."])
    held = SETTINGS.model_copy(  # ample time for a quick turn on a slow machine
        update={"turn_steps_flush_s": 0.5, "turn_model_timeout_s": 3.0}
    )
    async with running_app(urls, held) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        async with persona_with_models(client, auth, script) as sid:
            written: dict[str, list[tuple[str, str]]] = {}
            for label, delay_s in (("quick", 0.0), ("slow", 1.1)):
                script.chat_delay_s = delay_s
                done = await post(client, auth, f"/v1/sessions/{sid}/messages", content="Hi")
                events = (await client.get(f"/v1/sessions/{sid}/events", headers=auth)).json()[
                    "items"
                ]
                written[label] = [
                    (e["event_type"], e["created_at"])
                    for e in events
                    if e["trace_id"] == done["run"]["trace_id"]
                ]
            for label in ("quick", "slow"):
                times = dict(written[label][::-1])  # the first of each type
                retrieval = next(
                    t for kind, t in written[label] if kind == "run.step"
                )  # memory retrieval, the first step
                if label == "quick":
                    assert retrieval == times["message.assistant"]
                else:
                    gap = datetime.fromisoformat(times["message.assistant"]) - (
                        datetime.fromisoformat(retrieval)
                    )
                    assert gap >= timedelta(seconds=0.5)


@asynccontextmanager
async def served(urls: DatabaseUrls) -> AsyncIterator[httpx.AsyncClient]:
    """The app behind a real server on 127.0.0.1 (streams arrive as they are sent)."""
    async with served_app(urls) as (_app, client):
        yield client


@asynccontextmanager
async def served_app(urls: DatabaseUrls) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """`served`, with the app (its queued jobs run when the test drains them)."""
    await prepare_database(urls.owner, MASTER_KEY)
    app = create_app(SETTINGS.model_copy(update={"worker": False}), urls, master_key=MASTER_KEY)
    async with (
        on_loopback(app) as port,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client,
    ):
        yield app, client


async def sse(
    response: httpx.Response, connected: asyncio.Event | None = None
) -> AsyncIterator[tuple[str, dict[str, Any], float]]:
    """(event, data, arrival time) of each Server-Sent Event; `connected` is set at the
    stream's first comment (`: connected`)."""
    event = ""
    async for line in response.aiter_lines():
        if line.startswith(":") and connected is not None:
            connected.set()
        elif line.startswith("event: "):
            event = line.removeprefix("event: ")
        elif line.startswith("data: "):
            yield event, json.loads(line.removeprefix("data: ")), time.monotonic()


async def test_the_answer_streams_token_by_token_as_the_model_produces_it(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    reply = "The lighthouse keeper waves at every ship that passes by"
    script = Script(replies=[reply], stream_delay_s=0.1)
    async with served(urls) as client, served(urls) as elsewhere:
        auth = await bearer(client, *fresh_owner)
        async with persona_with_models(client, auth, script) as sid:
            connected = asyncio.Event()
            watching = asyncio.create_task(
                watch(elsewhere, auth, sid, until="run.completed", connected=connected)
            )
            await asyncio.wait_for(connected.wait(), 10)
            body = {"content": "Who waves at ships?", "stream": True}
            got = []
            async with client.stream(
                "POST", f"/v1/sessions/{sid}/messages", headers=auth, json=body
            ) as response:
                assert response.headers["content-type"].startswith("text/event-stream")
                async for event in sse(response):
                    got.append(event)
            names = [name for name, _, _ in got]
            assert names[0] == "run.started" and names[-1] == "run.completed"
            tokens = [(data["text"], at) for name, data, at in got if name == "token"]
            assert "".join(t for t, _ in tokens) == reply and len(tokens) == len(reply.split())
            assert got[-1][2] - tokens[0][1] >= 0.7  # the first came long before the end
            assert got[-1][1]["content"] == reply
            assert script.chat_requests[0]["stream"] is True
            # a watcher of the session, served by another process, saw the tokens pass
            # as they came, then the whole reply logged
            seen = await asyncio.wait_for(watching, 10)
            passed = [data for name, data, _ in seen if name == "token"]
            assert "".join(d["text"] for d in passed) == reply and len(passed) > 3
            assert {d["run_id"] for d in passed} == {got[0][1]["run_id"]}
            names = [name for name, _, _ in seen]
            assert names.index("message.assistant") > max(
                i for i, name in enumerate(names) if name == "token"
            )
            assert seen[names.index("message.assistant")][1]["payload"]["content"] == reply


async def watch(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    sid: str,
    *,
    until: str,
    connected: asyncio.Event | None = None,
) -> list[tuple[str, dict[str, Any], float]]:
    """What the session's live stream shows, up to the first `until` event; `connected` is
    set when the stream says it is subscribed."""
    seen = []
    async with client.stream("GET", f"/v1/sessions/{sid}/stream", headers=auth) as response:
        async for event in sse(response, connected):
            seen.append(event)
            if event[0] == until:
                break
    return seen


async def test_cancelling_a_streaming_run_stops_the_model(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    script = Script(replies=["word " * 40], stream_delay_s=0.2)
    async with served(urls) as client, served(urls) as elsewhere:
        auth = await bearer(client, *fresh_owner)
        async with persona_with_models(client, auth, script) as sid:
            body = {"content": "Tell me everything.", "stream": True}
            names = []
            async with client.stream(
                "POST", f"/v1/sessions/{sid}/messages", headers=auth, json=body
            ) as response:
                async for name, data, _ in sse(response):
                    names.append(name)
                    if name == "run.started":
                        run_id = data["run_id"]
                    if name == "token" and names.count("token") == 2:
                        # through another process than the one carrying the run
                        cancelled = await elsewhere.post(f"/v1/runs/{run_id}/cancel", headers=auth)
                        assert cancelled.status_code == 202, cancelled.text
            assert names[-1] == "run.cancelled" and names.count("token") < 10
            await soon(lambda: script.streams_closed)
            assert script.streams_closed == 1  # the provider's stream was closed
            run = (await client.get(f"/v1/runs/{run_id}", headers=auth)).json()
            assert (run["status"], run["error_message"]) == ("cancelled", None)  # not abandoned
            messages = (await client.get(f"/v1/sessions/{sid}/messages", headers=auth)).json()
            assert [m["role"] for m in messages] == ["user"]  # no half answer
            again = await client.post(f"/v1/runs/{run_id}/cancel", headers=auth)
            assert again.status_code == 409


async def test_thirty_turns_at_rpm_10_are_spread_over_time_and_none_dropped(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    """rpm counts over `model_rate_window_s` (a second here, a minute by default): 30
    turns started at once reach the model 10 per window, over three windows."""
    script = Script(replies=["Noted."])
    settings = SETTINGS.model_copy(update={"model_rate_window_s": 1.0, "model_rate_max_wait_s": 30})
    async with running_app(urls, settings) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        async with persona_with_models(client, auth, script, rpm=10) as sid:
            started = await asyncio.gather(
                *(
                    post(client, auth, "/v1/runs", session_id=sid, content=f"Note {n}.")
                    for n in range(30)
                )
            )
            runs = [await ended(client, auth, run["id"], within_s=30) for run in started]
            assert [r["status"] for r in runs] == ["completed"] * 30  # nothing dropped
            assert {r["output"] for r in runs} == {"Noted."}
            arrivals = sorted(script.chat_arrivals)
            assert len(arrivals) == 30 and arrivals[-1] - arrivals[0] >= 1.9
            # never more than 10 in a window: calls are admitted 10 per window, and reach
            # the model after their own latency (up to ~0.1 s more for some: a new
            # connection), so the window seen at the model is a little narrower
            for index, at in enumerate(arrivals):
                assert sum(1 for t in arrivals[index:] if t < at + 0.85) <= 10
            turns = (await client.get(f"/v1/sessions/{sid}/turns", headers=auth)).json()
            numbers = sorted(t["turn_number"] for t in turns)
            assert numbers == list(range(1, 31))  # concurrent turns of one session, each once


async def test_runs_left_by_a_dead_process_are_cancelled_or_failed_as_stale(
    urls: DatabaseUrls, fresh_owner: tuple[str, str], owner_engine: AsyncEngine
) -> None:
    """A run its process left `running` (simulated: finished runs set back): a cancel
    that no process answers within `run_cancel_wait_s` cancels it where it stands; the
    sweep fails those running longer than `run_stale_after_s`."""
    script = Script(replies=["one", "two", "three"])
    settings = SETTINGS.model_copy(update={"run_cancel_wait_s": 0.3})
    async with running_app(urls, settings) as (app, client):
        auth = await bearer(client, *fresh_owner)
        async with persona_with_models(client, auth, script) as sid:
            ids = []
            for content in ("a", "b", "c"):
                done = await post(client, auth, f"/v1/sessions/{sid}/messages", content=content)
                ids.append(done["run"]["id"])
            async with owner_engine.begin() as connection:
                await connection.execute(
                    text(
                        "UPDATE runs SET status = 'running', completed_at = NULL, "
                        "started_at = started_at - make_interval(secs => :age) "
                        "WHERE id = CAST(:id AS uuid)"
                    ),
                    [{"id": ids[0], "age": 0}, {"id": ids[1], "age": 7200}],
                )
            cancelled = await client.post(f"/v1/runs/{ids[0]}/cancel", headers=auth)
            assert cancelled.status_code == 202
            run = (await client.get(f"/v1/runs/{ids[0]}", headers=auth)).json()
            assert (run["status"], run["error_message"]) == (
                "cancelled",
                "no process was carrying it",
            )
            swept = await fail_stale(app.state.services.sessions, timedelta(hours=1))
            assert swept == 1
            runs = [(await client.get(f"/v1/runs/{i}", headers=auth)).json() for i in ids]
            assert [r["status"] for r in runs] == ["cancelled", "failed", "completed"]
            assert runs[1]["error_message"].startswith("stale")


async def test_detached_runs_and_the_mood_of_a_persona(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    script = Script(replies=["In the background."])
    async with running_app(urls, SETTINGS) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        async with persona_with_models(client, auth, script, neuromodulators={}) as sid:
            started = await client.post(
                "/v1/runs", headers=auth, json={"session_id": sid, "content": "Later, please."}
            )
            assert started.status_code == 202 and started.json()["status"] == "running"
            run_id = started.json()["id"]
            run = await ended(client, auth, run_id)
            assert (run["status"], run["output"]) == ("completed", "In the background.")
            listed = await client.get("/v1/runs", headers=auth, params={"session_id": sid})
            assert [r["id"] for r in listed.json()["items"]] == [run_id]

            persona_id = run["persona_id"]
            calm = (await client.get(f"/v1/personas/{persona_id}/mood", headers=auth)).json()
            assert calm["parameters"]["temperature"] == pytest.approx(0.575, abs=0.01)
            praised = await post(
                client, auth, f"/v1/personas/{persona_id}/mood", event="positive_feedback"
            )
            assert praised["neuromodulators"]["dopamine"] > calm["neuromodulators"]["dopamine"]
            assert praised["parameters"]["temperature"] > calm["parameters"]["temperature"]
            pushed = await post(
                client, auth, f"/v1/personas/{persona_id}/mood", deltas={"noradrenaline": 5}
            )
            assert pushed["neuromodulators"]["noradrenaline"] == 1.0  # bounded
            assert pushed["parameters"]["top_p"] == 0.6
            unknown = await client.post(
                f"/v1/personas/{persona_id}/mood", headers=auth, json={"event": "joy"}
            )
            assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "event"
            bad = await client.patch(
                f"/v1/personas/{persona_id}",
                headers=auth,
                json={"neuromodulators": {"dopamine": 2}},
            )
            assert bad.json()["errors"][0]["field"] == "neuromodulators.dopamine"


async def test_a_run_waits_for_a_tools_approval_then_resumes(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    script = Script(
        replies=[{"tool_calls": [{"name": "stamp", "arguments": {"word": "ok"}}]}, "Stamped."]
    )
    settings = SETTINGS.model_copy(update={"turn_approval_poll_s": 0.05})
    async with running_app(urls, settings) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        await post(
            client,
            auth,
            "/v1/tools",
            name="stamp",
            description="Stamp a word.",
            code_type="python",
            code="def main(word=''):\n    return word.upper()\n",
            schema={"type": "object", "properties": {"word": {"type": "string"}}},
            requires_approval=True,
        )
        async with persona_with_models(client, auth, script, tools=("stamp",)) as sid:
            run = await post(client, auth, "/v1/runs", session_id=sid, content="Stamp it.")

            async def awaiting() -> list[Any]:
                found = await client.get(
                    "/v1/tool-executions", headers=auth, params={"status": "awaiting_approval"}
                )
                return list(found.json()["items"])

            waiting = await eventually(awaiting)
            assert [w["run_id"] for w in waiting] == [run["id"]]
            still = (await client.get(f"/v1/runs/{run['id']}", headers=auth)).json()
            assert still["status"] == "running"  # the run waits
            await post(client, auth, f"/v1/tool-executions/{waiting[0]['id']}/approve")
            done = await ended(client, auth, run["id"])
            assert (done["status"], done["output"]) == ("completed", "Stamped.")
            told = script.chat_requests[-1]["messages"][-1]
            assert told["role"] == "tool" and '"result": "OK"' in told["content"]


async def test_a_turn_needs_a_live_session_with_a_persona_and_its_models(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    async with running_app(urls, SETTINGS) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        say = {"content": "Hello?"}
        missing = await client.post(
            "/v1/sessions/01a23c1f-282e-761a-8d0e-1d2f152314a0/messages", headers=auth, json=say
        )
        assert missing.status_code == 404 and "no such session" in missing.json()["detail"]
        alone = await post(client, auth, "/v1/sessions")
        nobody = await client.post(f"/v1/sessions/{alone['id']}/messages", headers=auth, json=say)
        assert nobody.status_code == 409 and "no persona" in nobody.json()["detail"]
        persona = await post(client, auth, "/v1/personas", name="Gone soon")
        session = await post(client, auth, "/v1/sessions", persona_id=persona["id"])
        # the tenant has no chat model config yet: the run fails and says why
        unready = await post(client, auth, f"/v1/sessions/{session['id']}/messages", **say)
        assert unready["run"]["status"] == "failed"
        assert "no chat model config" in unready["error"]
        log = (await client.get(f"/v1/sessions/{session['id']}/events", headers=auth)).json()
        assert [e["event_type"] for e in log["items"]][-1] == "run.failed"
        assert (await client.delete(f"/v1/personas/{persona['id']}", headers=auth)).is_success
        gone = await client.post(f"/v1/sessions/{session['id']}/messages", headers=auth, json=say)
        assert gone.status_code == 409 and "deleted" in gone.json()["detail"]
        await client.delete(f"/v1/sessions/{session['id']}", headers=auth)
        closed = await client.post(f"/v1/sessions/{session['id']}/messages", headers=auth, json=say)
        assert closed.status_code == 404
