"""The OpenAI-compatible chat adapter against a scripted server on 127.0.0.1: whole and
streamed answers, tool calls both ways, sampling parameters over the config's, failures
told apart, and a stream that stops when its reader does."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from typing import Any

import pytest

from personae.errors import ProviderError, ProviderUnavailable
from personae.providers.chat import Completion, Message, OpenAIChat, Prices, Request, ToolCall
from tests.scripted_openai import Script, scripted_openai
from tests.waiting import soon

WEATHER = {
    "type": "function",
    "function": {
        "name": "weather",
        "description": "The forecast for a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


def chat(base_url: str, **options: Any) -> OpenAIChat:
    return OpenAIChat(
        base_url=base_url,
        api_key="sk-test",
        model="scripted",
        max_retries=0,
        options={"temperature": 0.2, "seed": 7},
        prices=Prices(1.0, 2.0),
        **options,
    )


async def test_a_whole_answer_with_tool_calls_both_ways() -> None:
    script = Script(
        replies=[{"tool_calls": [{"name": "weather", "arguments": {"city": "Oslo"}}]}, "Sunny."]
    )
    async with scripted_openai(script) as base_url:
        model = chat(base_url)
        asked = [Message("user", "Weather in Oslo?")]
        first = await model.complete(
            asked, request=Request(tools=[WEATHER], parameters={"temperature": 0.9})
        )
        [call] = first.tool_calls
        assert (call.name, json.loads(call.arguments)) == ("weather", {"city": "Oslo"})
        assert first.finish_reason == "tool_calls"
        sent = script.chat_requests[0]
        assert sent["tools"] == [WEATHER]
        assert (sent["temperature"], sent["seed"]) == (0.9, 7)  # the request's over the config's

        answered = [
            *asked,
            Message("assistant", "", tool_calls=(call,)),
            Message("tool", '{"sky": "clear"}', tool_call_id=call.id),
        ]
        second = await model.complete(answered)
        assert second.text == "Sunny." and second.cost_usd == pytest.approx(
            (second.input_tokens + 2 * second.output_tokens) / 1e6
        )
        wired = script.chat_requests[1]["messages"]
        assert wired[1]["tool_calls"][0]["function"]["name"] == "weather"
        assert wired[2] == {"role": "tool", "content": '{"sky": "clear"}', "tool_call_id": call.id}
        await model.close()


async def test_a_streamed_answer_comes_piece_by_piece_then_whole() -> None:
    script = Script(replies=["The tide turns at noon today."], stream_delay_s=0.05)
    async with scripted_openai(script) as base_url:
        model = chat(base_url)
        pieces: list[str] = []
        arrivals: list[float] = []
        final = None
        async for item in model.stream([Message("user", "When is the tide?")]):
            if isinstance(item, Completion):
                final = item
            else:
                pieces.append(item)
                arrivals.append(asyncio.get_running_loop().time())
        assert "".join(pieces) == "The tide turns at noon today."
        assert len(pieces) == 6 and arrivals[-1] - arrivals[0] >= 0.2  # as produced, not at once
        assert final is not None and final.text == "".join(pieces)
        assert (final.input_tokens, final.output_tokens) == (4, 6)

        script.replies = [
            {
                "content": "Let me look.",
                "tool_calls": [{"name": "weather", "arguments": {"city": "Rome"}}],
            }
        ]
        items = [
            item
            async for item in model.stream([Message("user", "Rome?")], Request(tools=[WEATHER]))
        ]
        assert isinstance(items[-1], Completion)
        assert items[-1].tool_calls == (ToolCall("call_2_0", "weather", '{"city": "Rome"}'),)
        await model.close()


async def test_an_answer_or_a_chunk_in_an_unknown_shape_is_a_provider_error() -> None:
    shapes = [
        ({"choices": []}, "no choice"),
        ({"choices": [{"message": {"content": None}}]}, "no text"),
        ({"choices": [{"message": {"tool_calls": [{"id": "call_1"}]}}]}, "unknown shape"),
        ({"choices": [{"text": "a completion, not a chat"}]}, "unknown shape"),
        (["not", "an", "object"], "unknown shape"),
    ]
    script = Script(shapeless=[body for body, _ in shapes], replies=["Fine again."])
    async with scripted_openai(script) as base_url:
        model = chat(base_url)
        for _, said in shapes:
            with pytest.raises(ProviderError, match=said):
                await model.complete([Message("user", "hi")])
        assert (await model.complete([Message("user", "hi")])).text == "Fine again."
        script.shapeless = [{"choices": [{"delta": {"tool_calls": [{"id": "call_1"}]}}]}]
        with pytest.raises(ProviderError, match="streamed a chunk in an unknown shape"):
            async for _ in model.stream([Message("user", "hi")]):
                pass
        await model.close()


async def test_failures_are_told_apart_and_a_stream_stops_with_its_reader() -> None:
    script = Script(chat_failures=[503, 400, 429], replies=["one two three four five six"])
    async with scripted_openai(script) as base_url:
        model = chat(base_url)
        with pytest.raises(ProviderUnavailable):
            await model.complete([Message("user", "hi")])
        with pytest.raises(ProviderError):
            await model.complete([Message("user", "hi")])
        with pytest.raises(ProviderUnavailable):
            async for _ in model.stream([Message("user", "hi")]):
                pass  # 429 before the first token

        script.stream_break_after = 2
        got: list[str] = []
        with pytest.raises(ProviderUnavailable):
            async for item in model.stream([Message("user", "hi")]):
                got.append(str(item))
        assert got == ["one", " two"]  # what came before the break

        script.stream_break_after, script.stream_delay_s = None, 0.2
        stream = model.stream([Message("user", "hi")])
        assert await anext(stream) == "one"
        assert isinstance(stream, AsyncGenerator)
        await stream.aclose()  # the reader goes away
        await soon(lambda: script.streams_closed)
        assert script.streams_closed == 1  # and so does the provider's stream
        await model.close()
