"""The Anthropic adapter against the scripted server's Messages API on 127.0.0.1: the wire
format translated both ways (system prompt apart, tools by input schema, tool calls and
results as blocks), sampling parameters the API knows, whole and streamed answers with
their usage and cost, failures told apart, a stream that stops when its reader does."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Any

import pytest

from personae.errors import ProviderError, ProviderUnavailable
from personae.providers.chat import AnthropicChat, Completion, Message, Prices, Request
from tests.scripted_openai import Script, scripted_openai
from tests.waiting import soon

WEATHER: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "weather",
        "description": "The forecast for a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


def claude(base_url: str) -> AnthropicChat:
    return AnthropicChat(
        base_url=base_url.removesuffix("/v1"),  # the SDK adds /v1/messages itself
        api_key="sk-ant-test",
        model="claude-scripted",
        max_retries=0,
        options={"temperature": 0.2, "seed": 7},
        prices=Prices(3.0, 15.0),
    )


async def test_a_whole_answer_with_tool_calls_both_ways() -> None:
    script = Script(
        replies=[{"tool_calls": [{"name": "weather", "arguments": {"city": "Oslo"}}]}, "Sunny."]
    )
    async with scripted_openai(script) as base_url:
        model = claude(base_url)
        asked = [Message("system", "You are terse."), Message("user", "Weather in Oslo?")]
        parameters = {"temperature": 1.3, "presence_penalty": 0.4, "top_p": 0.9}
        first = await model.complete(asked, request=Request(tools=[WEATHER], parameters=parameters))
        [call] = first.tool_calls
        assert (call.name, json.loads(call.arguments)) == ("weather", {"city": "Oslo"})
        assert first.finish_reason == "tool_use" and first.text == ""
        sent = script.chat_requests[0]
        assert sent["system"] == "You are terse."
        assert sent["messages"] == [{"role": "user", "content": "Weather in Oslo?"}]
        assert sent["tools"] == [
            {
                "name": "weather",
                "description": "The forecast for a city.",
                "input_schema": WEATHER["function"]["parameters"],
            }
        ]
        assert sent["max_tokens"] == 1024  # required by the API: a default when unasked
        # what the API knows, the request's over the config's, temperature at most 1
        assert (sent["temperature"], sent["top_p"]) == (1.0, 0.9)
        assert "presence_penalty" not in sent and "seed" not in sent

        answered = [
            *asked,
            Message("assistant", "", tool_calls=(call,)),
            Message("tool", '{"sky": "clear"}', tool_call_id=call.id),
        ]
        second = await model.complete(answered, max_tokens=50)
        assert second.text == "Sunny." and second.finish_reason == "end_turn"
        assert script.chat_requests[1]["messages"][1:] == [
            {
                "role": "assistant",
                "content": [
                    {
                        "type": "tool_use",
                        "id": call.id,
                        "name": "weather",
                        "input": {"city": "Oslo"},
                    }
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": call.id, "content": '{"sky": "clear"}'}
                ],
            },
        ]
        assert script.chat_requests[1]["max_tokens"] == 50
        assert (second.input_tokens, second.output_tokens) == (5, 1)  # as the server counted
        assert second.cost_usd == pytest.approx((5 * 3.0 + 1 * 15.0) / 1_000_000)
        await model.close()


async def test_a_streamed_answer_comes_piece_by_piece_then_whole() -> None:
    script = Script(
        replies=[
            {
                "content": "Let me look.",
                "tool_calls": [{"name": "weather", "arguments": {"city": "Bergen"}}],
            }
        ]
    )
    async with scripted_openai(script) as base_url:
        model = claude(base_url)
        items = [item async for item in model.stream([Message("user", "Bergen?")])]
        *pieces, whole = items
        assert pieces == ["Let", " me", " look."]
        assert isinstance(whole, Completion) and whole.text == "Let me look."
        [call] = whole.tool_calls
        assert (call.name, json.loads(call.arguments)) == ("weather", {"city": "Bergen"})
        assert (whole.input_tokens, whole.output_tokens, whole.finish_reason) == (
            1,
            3,
            "tool_use",
        )
        assert script.chat_requests[0]["stream"] is True
        await model.close()


async def test_failures_are_told_apart_and_a_stream_stops_with_its_reader() -> None:
    script = Script(replies=["word " * 50], chat_failures=[529, 503, 400], stream_delay_s=0.05)
    async with scripted_openai(script) as base_url:
        model = claude(base_url)
        for _ in range(2):  # overloaded, unavailable: try elsewhere or later
            with pytest.raises(ProviderUnavailable):
                await model.complete([Message("user", "Hello?")])
        with pytest.raises(ProviderError, match="400"):  # refused: not retried
            await model.complete([Message("user", "Hello?")])
        pieces = model.stream([Message("user", "Talk.")])
        assert await anext(pieces) == "word"
        assert isinstance(pieces, AsyncGenerator)
        await pieces.aclose()
        await soon(lambda: script.streams_closed)
        assert script.streams_closed == 1
        await model.close()


async def test_a_clients_tool_choice_and_images_are_said_the_anthropic_way() -> None:
    script = Script(replies=["A red pixel."])
    async with scripted_openai(script) as base_url:
        model = claude(base_url)
        shown = Message(
            "user",
            "What are these?",
            images=("data:image/png;base64,iVBORw0KGgo=", "https://img.example.com/a.jpg"),
        )
        choice = {"type": "function", "function": {"name": "weather"}}
        request = Request(tools=[WEATHER], tool_choice=choice, parallel_tool_calls=False)
        await model.complete([shown], request=request)
        sent = script.chat_requests[0]
        assert sent["messages"][0]["content"] == [
            {"type": "text", "text": "What are these?"},
            {
                "type": "image",
                "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
            },
            {"type": "image", "source": {"type": "url", "url": "https://img.example.com/a.jpg"}},
        ]
        assert sent["tool_choice"] == {
            "type": "tool",
            "name": "weather",
            "disable_parallel_tool_use": True,
        }
        await model.complete([shown], request=Request(tools=[WEATHER], tool_choice="required"))
        assert script.chat_requests[1]["tool_choice"] == {"type": "any"}
        await model.close()
