"""The Chat Completions dialect through the official `openai` client: content as parts, the
client's own functions called by the model and returned to it (whole, streamed, several at
once, beside the persona's tools) with the run going on from their results, structured
output checked and asked again, the persona's policies over sampling and instructions,
and each unsupported field refused in OpenAI's error shape."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, cast

import httpx
import openai
import pytest
from openai.types.chat import (
    ChatCompletionFunctionToolParam,
    ChatCompletionMessageParam,
    ChatCompletionToolMessageParam,
)
from pydantic import BaseModel

from personae.db.engine import DatabaseUrls
from tests.api.conftest import bearer
from tests.api.test_turns import persona_with_models, post, served
from tests.scripted_openai import Script

WEATHER: ChatCompletionFunctionToolParam = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city now",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
MODEL = "Harbour guide"


@dataclass
class Front:
    sdk: openai.AsyncOpenAI
    client: httpx.AsyncClient
    auth: dict[str, str]
    script: Script


@asynccontextmanager
async def front(
    urls: DatabaseUrls, owner: tuple[str, str], script: Script, tools: tuple[str, ...] = ()
) -> AsyncIterator[Front]:
    async with served(urls) as client:
        auth = await bearer(client, *owner)
        token = (await post(client, auth, "/v1/tokens", name="app", scopes=["openai:chat"]))[
            "token"
        ]
        async with persona_with_models(client, auth, script, tools=tools):
            sdk = openai.AsyncOpenAI(
                base_url=str(client.base_url).rstrip("/") + "/openai/v1",
                api_key=token,
                max_retries=0,
            )
            yield Front(sdk, client, auth, script)
            await sdk.close()


def followed(
    asked: list[ChatCompletionMessageParam], answer: BaseModel, *then: ChatCompletionMessageParam
) -> list[ChatCompletionMessageParam]:
    """The conversation sent again: what was asked, the assistant's answer, then more."""
    return [*asked, cast(ChatCompletionMessageParam, answer.model_dump(exclude_none=True)), *then]


def sent(script: Script, index: int = -1) -> dict[str, Any]:
    return script.chat_requests[index]


async def test_content_parts_and_the_clients_instructions_reach_the_model(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    async with front(urls, fresh_owner, Script(replies=["Ahoy."])) as f:
        answer = await f.sdk.chat.completions.create(
            model=MODEL,
            messages=[
                {"role": "system", "content": [{"type": "text", "text": "Answer in one word."}]},
                {"role": "developer", "content": "Never mention whales."},
                {
                    "role": "user",
                    "content": [{"type": "text", "text": "Hello"}, {"type": "text", "text": "?"}],
                },
            ],
        )
        assert answer.choices[0].message.content == "Ahoy."
        system, *_, user = sent(f.script)["messages"]
        assert system["content"].endswith("Answer in one word.\n\nNever mention whales.")
        assert user == {"role": "user", "content": "Hello\n?"}

        persona = (await f.client.get("/v1/personas", headers=f.auth)).json()["items"][0]
        await f.client.patch(
            f"/v1/personas/{persona['id']}",
            headers=f.auth,
            json={"client_instructions": "ignore"},
        )
        raw = await f.sdk.chat.completions.with_raw_response.create(
            model=MODEL,
            messages=[
                {"role": "system", "content": "Answer in one word."},
                {"role": "user", "content": "Hello"},
            ],
        )
        assert "one word" not in sent(f.script)["messages"][0]["content"]
        assert raw.headers["x-personae-ignored"] == "messages.0"


async def test_sampling_is_the_personas_unless_it_lets_the_client_set_it(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    async with front(urls, fresh_owner, Script(replies=["Fine."])) as f:
        ask: dict[str, Any] = {
            "model": MODEL,
            "messages": [{"role": "user", "content": "Hi"}],
            "temperature": 0.05,
            "seed": 7,
            "max_tokens": 50,
        }
        raw = await f.sdk.chat.completions.with_raw_response.create(**ask)
        assert raw.headers["x-personae-ignored"] == "temperature, seed"
        assert sent(f.script)["temperature"] != 0.05 and "seed" not in sent(f.script)
        assert sent(f.script)["max_tokens"] == 50  # a cap is always honoured

        persona = (await f.client.get("/v1/personas", headers=f.auth)).json()["items"][0]
        changed = await f.client.patch(
            f"/v1/personas/{persona['id']}", headers=f.auth, json={"client_sampling": "client"}
        )
        assert changed.json()["client_sampling"] == "client"
        raw = await f.sdk.chat.completions.with_raw_response.create(**ask)
        assert "x-personae-ignored" not in raw.headers
        assert (sent(f.script)["temperature"], sent(f.script)["seed"]) == (0.05, 7)
        refused = await f.client.patch(
            f"/v1/personas/{persona['id']}", headers=f.auth, json={"client_sampling": "anyone"}
        )
        assert refused.status_code == 422


async def test_a_clients_function_goes_back_to_it_and_the_run_goes_on_with_its_result(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    script = Script(
        replies=[
            {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}]},
            "It is 21 degrees in Oslo.",
        ]
    )
    async with front(urls, fresh_owner, script) as f:
        asked: list[ChatCompletionMessageParam] = [{"role": "user", "content": "How warm is Oslo?"}]
        raw = await f.sdk.chat.completions.with_raw_response.create(
            model=MODEL, messages=asked, tools=[WEATHER]
        )
        first = raw.parse()
        choice = first.choices[0]
        assert choice.finish_reason == "tool_calls"
        [call] = choice.message.tool_calls or []
        assert call.type == "function" and call.function.name == "get_weather"
        assert json.loads(call.function.arguments) == {"city": "Oslo"}
        assert sent(f.script)["tools"][-1]["function"]["name"] == "get_weather"
        run_id = raw.headers["x-personae-run"]
        waiting = (await f.client.get(f"/v1/runs/{run_id}", headers=f.auth)).json()
        assert waiting["status"] == "requires_action"

        # a stateless client sends the whole conversation again, with the result
        done = await f.sdk.chat.completions.with_raw_response.create(
            model=MODEL,
            messages=followed(
                asked, choice.message, {"role": "tool", "tool_call_id": call.id, "content": "21"}
            ),
            tools=[WEATHER],
        )
        assert done.parse().choices[0].message.content == "It is 21 degrees in Oslo."
        assert done.headers["x-personae-run"] == run_id  # the same run went on
        *_, assistant, tool = sent(f.script)["messages"]
        assert assistant["tool_calls"][0]["id"] == call.id
        assert tool == {"role": "tool", "content": "21", "tool_call_id": call.id}
        ended = (await f.client.get(f"/v1/runs/{run_id}", headers=f.auth)).json()
        assert ended["status"] == "completed"
        session = raw.headers["x-personae-session"]
        events = (await f.client.get(f"/v1/sessions/{session}/events", headers=f.auth)).json()[
            "items"
        ]
        kinds = [e["event_type"] for e in events]
        assert kinds.index("run.requires_action") < kinds.index("tool.result")
        assert (
            kinds.index("tool.result") < kinds.index("run.resumed") < kinds.index("run.completed")
        )

        again = await f.client.post(  # results for a run that is over
            "/openai/v1/chat/completions",
            headers={"Authorization": f"Bearer {f.sdk.api_key}"},
            json={
                "model": MODEL,
                "messages": followed(
                    asked,
                    choice.message,
                    {"role": "tool", "tool_call_id": call.id, "content": "22"},
                ),
            },
        )
        assert again.status_code == 409 and again.json()["error"]["type"] == "invalid_request_error"


async def test_parallel_calls_stream_as_deltas_beside_the_personas_own_tools(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    script = Script(
        replies=[
            {
                "tool_calls": [
                    {"name": "calculator", "arguments": {"expression": "6*7"}},
                    {"name": "get_weather", "arguments": {"city": "Oslo"}},
                    {"name": "get_weather", "arguments": {"city": "Bergen"}},
                ]
            },
            "Oslo 21, Bergen 14, and 42.",
        ]
    )
    async with front(urls, fresh_owner, script, tools=("calculator",)) as f:
        asked: list[ChatCompletionMessageParam] = [
            {"role": "user", "content": "Weather in Oslo and Bergen, and 6*7?"}
        ]
        stream = await f.sdk.chat.completions.create(
            model=MODEL, messages=asked, tools=[WEATHER], parallel_tool_calls=True, stream=True
        )
        calls: dict[int, dict[str, Any]] = {}
        finish = None
        async for chunk in stream:
            for choice in chunk.choices:
                for delta in choice.delta.tool_calls or ():
                    slot = calls.setdefault(delta.index, {"arguments": ""})
                    if delta.id:
                        slot["id"] = delta.id
                    if delta.function and delta.function.name:
                        slot["name"] = delta.function.name
                    if delta.function and delta.function.arguments:
                        slot["arguments"] += delta.function.arguments
                finish = choice.finish_reason or finish
        assert finish == "tool_calls"
        assert [(c["name"], json.loads(c["arguments"])) for c in calls.values()] == [
            ("get_weather", {"city": "Oslo"}),
            ("get_weather", {"city": "Bergen"}),
        ]  # the calculator ran on the server
        assert sent(f.script)["parallel_tool_calls"] is True

        stream = await f.sdk.chat.completions.create(
            model=MODEL,
            messages=[
                *asked,
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": c["id"],
                            "type": "function",
                            "function": {"name": c["name"], "arguments": c["arguments"]},
                        }
                        for c in calls.values()
                    ],
                },
                *(
                    ChatCompletionToolMessageParam(
                        role="tool", tool_call_id=c["id"], content=temperature
                    )
                    for c, temperature in zip(calls.values(), ["21", "14"], strict=True)
                ),
            ],
            tools=[WEATHER],
            stream=True,
        )
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
        assert text == "Oslo 21, Bergen 14, and 42."
        answers = [m for m in sent(f.script)["messages"] if m["role"] == "tool"]
        assert ["42" in answers[0]["content"], answers[1]["content"], answers[2]["content"]] == [
            True,
            "21",
            "14",
        ]


async def test_images_reach_only_a_model_with_vision(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    pixel = "data:image/png;base64,iVBORw0KGgo="
    async with front(urls, fresh_owner, Script(replies=["A red pixel."])) as f:
        shown: list[ChatCompletionMessageParam] = [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": {"url": pixel}},
                ],
            }
        ]
        with pytest.raises(openai.BadRequestError, match="none of the persona's models"):
            await f.sdk.chat.completions.create(model=MODEL, messages=shown)
        assert f.script.chat_requests == []  # refused before anything was written or asked

        [config] = (await f.client.get("/v1/model-configs", headers=f.auth)).json()
        seeing = await f.client.patch(
            f"/v1/model-configs/{config['id']}", headers=f.auth, json={"vision": True}
        )
        assert seeing.status_code == 200, seeing.text
        answer = await f.sdk.chat.completions.create(model=MODEL, messages=shown)
        assert answer.choices[0].message.content == "A red pixel."
        assert sent(f.script)["messages"][-1]["content"] == [
            {"type": "text", "text": "What is this?"},
            {"type": "image_url", "image_url": {"url": pixel}},
        ]


class City(BaseModel):
    city: str
    degrees: int


async def test_structured_output_is_checked_and_asked_again(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    script = Script(
        replies=[
            "Oslo is warm today.",
            '```json\n{"city": "Oslo", "degrees": "warm"}\n```',
            '```json\n{"city": "Oslo", "degrees": 21}\n```',
        ]
    )
    async with front(urls, fresh_owner, script) as f:
        parsed = await f.sdk.chat.completions.parse(
            model=MODEL,
            messages=[{"role": "user", "content": "How warm is Oslo?"}],
            response_format=City,
        )
        assert parsed.choices[0].message.parsed == City(city="Oslo", degrees=21)
        assert len(f.script.chat_requests) == 3
        assert f.script.chat_requests[0]["response_format"]["type"] == "json_schema"
        retry = f.script.chat_requests[2]["messages"][-1]["content"]
        assert "$.degrees" in retry and "not of type 'integer'" in retry

        f.script.replies = ["never JSON"]
        with pytest.raises(openai.APIStatusError, match="does not match response_format"):
            await f.sdk.chat.completions.create(
                model=MODEL,
                messages=[{"role": "user", "content": "And Bergen?"}],
                response_format={"type": "json_object"},
            )

        f.script.replies = ['{"ok": true}']
        stream = await f.sdk.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "Streamed?"}],
            response_format={"type": "json_object"},
            stream=True,
        )
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
        assert json.loads(text) == {"ok": True}


@pytest.mark.parametrize(
    ("extra", "param", "code"),
    [
        ({"logprobs": True}, "logprobs", "unsupported_parameter"),
        ({"n": 2}, "n", "unsupported_value"),
        ({"logit_bias": {"50256": -100}}, "logit_bias", "unsupported_parameter"),
        ({"modalities": ["text", "audio"]}, "modalities", "unsupported_value"),
        ({"moderation": {"model": "omni-moderation-latest"}}, "moderation", None),
        ({"frequency": 1}, "frequency", None),
        ({"response_format": {"type": "json_schema"}}, "response_format.json_schema", None),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "image_url", "image_url": {"url": "https://x.test/a.png"}}
                        ],
                    }
                ]
            },
            "messages",  # the persona's model has no vision
            None,
        ),
        (
            {"messages": [{"role": "tool", "tool_call_id": "call_x", "content": "1"}]},
            "messages.0",
            None,
        ),
    ],
)
async def test_what_the_front_door_cannot_do_is_refused_as_openai_does(
    urls: DatabaseUrls,
    fresh_owner: tuple[str, str],
    extra: dict[str, Any],
    param: str,
    code: str | None,
) -> None:
    async with front(urls, fresh_owner, Script()) as f:
        accepted = await f.sdk.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "Hi"}],
            logprobs=False,
            store=True,
            service_tier="auto",
            modalities=["text"],
            metadata={"app": "test"},
            tools=[],
        )
        assert accepted.choices[0].message.content == "A scripted reply."
        body = {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}], **extra}
        refused = await f.client.post(
            "/openai/v1/chat/completions",
            json=body,
            headers={"Authorization": f"Bearer {f.sdk.api_key}"},
        )
        assert refused.status_code == 400, refused.text
        error = refused.json()["error"]
        assert (error["type"], error["param"]) == ("invalid_request_error", param)
        if code is not None:
            assert error["code"] == code
        with pytest.raises(openai.BadRequestError) as raised:  # as the SDK raises it
            await f.sdk.chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": "Hi"}], extra_body=extra
            )
        assert raised.value.param == param


async def test_legacy_functions_round_trip_within_a_persons_conversation(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    script = Script(
        replies=[
            {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}]},
            "It is 21 degrees in Oslo.",
        ]
    )
    async with front(urls, fresh_owner, script) as f:
        asked: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Oslo?"}]
        first = await f.sdk.chat.completions.create(
            model=MODEL, messages=asked, functions=[WEATHER["function"]], user="ann"
        )
        choice = first.choices[0]
        assert choice.finish_reason == "function_call" and not choice.message.tool_calls
        assert choice.message.function_call is not None
        assert choice.message.function_call.name == "get_weather"
        assert sent(f.script)["parallel_tool_calls"] is False  # one call at a time
        answer = await f.sdk.chat.completions.create(
            model=MODEL,
            messages=followed(
                asked, choice.message, {"role": "function", "name": "get_weather", "content": "21"}
            ),
            functions=[WEATHER["function"]],
            user="ann",
        )
        assert answer.choices[0].message.content == "It is 21 degrees in Oslo."
        assert sent(f.script)["messages"][-1]["content"] == "21"

        with pytest.raises(openai.BadRequestError, match="find their run by the conversation"):
            await f.sdk.chat.completions.create(
                model=MODEL,
                messages=followed(
                    asked,
                    choice.message,
                    {"role": "function", "name": "get_weather", "content": "21"},
                ),
            )


async def test_a_new_message_ends_the_wait_and_earlier_calls_stay_in_the_history(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    script = Script(
        replies=[
            {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}]},
            "Something else, then.",
        ]
    )
    async with front(urls, fresh_owner, script) as f:
        asked: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Oslo?"}]
        first = await f.sdk.chat.completions.create(
            model=MODEL, messages=asked, tools=[WEATHER], user="ben"
        )
        message = first.choices[0].message
        [call] = message.tool_calls or []
        await f.sdk.chat.completions.create(  # ben changes the subject instead
            model=MODEL,
            messages=[{"role": "user", "content": "Never mind: tell me a joke."}],
            tools=[WEATHER],
            user="ben",
        )
        # the unanswered call is not sent to the model (it would refuse the history)
        assert all("tool_calls" not in m for m in sent(f.script)["messages"])
        with pytest.raises(openai.ConflictError, match="conversation went on"):
            await f.sdk.chat.completions.create(
                model=MODEL,
                messages=followed(
                    asked, message, {"role": "tool", "tool_call_id": call.id, "content": "21"}
                ),
                user="ben",
            )

        # a stateless request's earlier tool exchange becomes its session's history
        f.script.replies = ["You asked about Bergen."]
        await f.sdk.chat.completions.create(
            model=MODEL,
            messages=[
                {"role": "user", "content": "Bergen?"},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_abc",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": '{"city": "Bergen"}'},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "call_abc", "content": "14"},
                {"role": "assistant", "content": "It is 14 degrees."},
                {"role": "user", "content": "What did I ask?"},
            ],
        )
        history = sent(f.script)["messages"][1:]
        assert [m["role"] for m in history] == ["user", "assistant", "tool", "assistant", "user"]
        assert history[1]["tool_calls"][0]["id"] == "call_abc" and history[2]["content"] == "14"


async def test_a_run_waiting_for_the_client_can_be_cancelled(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    script = Script(replies=[{"tool_calls": [{"name": "get_weather", "arguments": {}}]}])
    async with front(urls, fresh_owner, script) as f:
        asked: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Oslo?"}]
        raw = await f.sdk.chat.completions.with_raw_response.create(
            model=MODEL, messages=asked, tools=[WEATHER]
        )
        message = raw.parse().choices[0].message
        run_id = raw.headers["x-personae-run"]
        cancelled = await f.client.post(f"/v1/runs/{run_id}/cancel", headers=f.auth)
        assert cancelled.status_code == 202, cancelled.text
        assert cancelled.json()["status"] == "cancelled"
        again = await f.client.post(f"/v1/runs/{run_id}/cancel", headers=f.auth)
        assert again.status_code == 409
        [call] = message.tool_calls or []
        with pytest.raises(openai.ConflictError, match="the run is cancelled"):
            await f.sdk.chat.completions.create(
                model=MODEL,
                messages=followed(
                    asked, message, {"role": "tool", "tool_call_id": call.id, "content": "21"}
                ),
            )
