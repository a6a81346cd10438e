"""Three more widely used OpenAI clients against the front door, each through its own
helpers (the `openai` SDK's are in `test_openai_dialect`): LangChain's `ChatOpenAI`
(invoke, stream, content blocks, `bind_tools` with a parallel round trip,
`with_structured_output`), the OpenAI Agents SDK (an agent whose function tool the client
runs, streamed with two calls at once, and an `output_type`), and litellm (completion,
stream with content parts, tools, a pydantic `response_format`, JSON mode). The
persona's model is the scripted server; nothing leaves 127.0.0.1."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from pydantic import BaseModel

from personae.db.engine import DatabaseUrls
from tests.api.test_openai_dialect import MODEL, WEATHER, Front, front, sent
from tests.scripted_openai import Script

assert os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] == "True"  # conftest: litellm stays local


class City(BaseModel):
    city: str
    degrees: int


def base_url(f: Front) -> str:
    return str(f.sdk.base_url).rstrip("/")


async def test_langchain_chat_openai(urls: DatabaseUrls, fresh_owner: tuple[str, str]) -> None:
    from langchain_core.messages import HumanMessage, ToolMessage
    from langchain_core.tools import tool
    from langchain_openai import ChatOpenAI

    @tool
    def get_weather(city: str) -> str:
        """The weather in a city now."""
        return {"Oslo": "21", "Bergen": "14"}[city]

    script = Script(replies=["Ahoy from the harbour."])
    async with front(urls, fresh_owner, script) as f:
        llm = ChatOpenAI(model=MODEL, base_url=base_url(f), api_key=f.sdk.api_key, max_retries=0)
        assert (await llm.ainvoke("Hello?")).content == "Ahoy from the harbour."

        f.script.replies = ["Boats come and go."]
        pieces = [c.content async for c in llm.astream("Boats?")]
        assert "".join(str(p) for p in pieces) == "Boats come and go."

        blocks = HumanMessage(content=[{"type": "text", "text": "Blocks"}])
        await llm.ainvoke([blocks])
        assert sent(f.script)["messages"][-1] == {"role": "user", "content": "Blocks"}

        f.script.replies = [
            {
                "tool_calls": [
                    {"name": "get_weather", "arguments": {"city": "Oslo"}},
                    {"name": "get_weather", "arguments": {"city": "Bergen"}},
                ]
            },
            "Oslo 21, Bergen 14.",
        ]
        with_tools = llm.bind_tools([get_weather])
        conversation: list[Any] = [HumanMessage("Weather in Oslo and Bergen?")]
        called = await with_tools.ainvoke(conversation)
        assert [(c["name"], c["args"]) for c in called.tool_calls] == [
            ("get_weather", {"city": "Oslo"}),
            ("get_weather", {"city": "Bergen"}),
        ]
        conversation.append(called)
        for call in called.tool_calls:
            conversation.append(
                ToolMessage(get_weather.invoke(call["args"]), tool_call_id=call["id"])
            )
        final = await with_tools.ainvoke(conversation)
        assert final.content == "Oslo 21, Bergen 14."

        f.script.replies = ['{"city": "Oslo", "degrees": 21}']
        structured = llm.with_structured_output(City)
        assert await structured.ainvoke("Oslo?") == City(city="Oslo", degrees=21)
        assert sent(f.script)["response_format"]["type"] == "json_schema"


async def test_openai_agents_sdk(urls: DatabaseUrls, fresh_owner: tuple[str, str]) -> None:
    from agents import (
        Agent,
        OpenAIChatCompletionsModel,
        Runner,
        function_tool,
        set_tracing_disabled,
    )

    set_tracing_disabled(True)
    ran: list[str] = []

    @function_tool
    def get_weather(city: str) -> str:
        """The weather in a city now."""
        ran.append(city)
        return "21"

    script = Script(
        replies=[
            {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}]},
            "It is 21 degrees in Oslo.",
        ]
    )
    async with front(urls, fresh_owner, script) as f:
        model = OpenAIChatCompletionsModel(model=MODEL, openai_client=f.sdk)
        agent = Agent(name="guide", instructions="Be brief.", model=model, tools=[get_weather])
        result = await Runner.run(agent, "How warm is Oslo?")
        assert result.final_output == "It is 21 degrees in Oslo."
        assert ran == ["Oslo"]  # the client ran its function
        tool_answer = [m for m in sent(f.script)["messages"] if m["role"] == "tool"]
        assert [m["content"] for m in tool_answer] == ["21"]

        f.script.replies = [
            {
                "tool_calls": [
                    {"name": "get_weather", "arguments": {"city": "Bergen"}},
                    {"name": "get_weather", "arguments": {"city": "Tromso"}},
                ]
            },
            "Both are at 21.",
        ]
        streamed = Runner.run_streamed(agent, "Bergen and Tromso?")
        kinds = [event.type async for event in streamed.stream_events()]
        assert streamed.final_output == "Both are at 21." and "raw_response_event" in kinds
        assert ran[1:] == ["Bergen", "Tromso"]  # both calls of one answer, run by the client

        f.script.replies = ['{"city": "Oslo", "degrees": 21}']
        typed = Agent(name="typed", instructions="Answer in JSON.", model=model, output_type=City)
        shaped = await Runner.run(typed, "Oslo?")
        assert shaped.final_output == City(city="Oslo", degrees=21)


async def test_litellm(urls: DatabaseUrls, fresh_owner: tuple[str, str]) -> None:
    import litellm

    script = Script(replies=["Ahoy."])
    async with front(urls, fresh_owner, script) as f:
        where: dict[str, Any] = {
            "model": f"openai/{MODEL}",
            "api_base": base_url(f),
            "api_key": f.sdk.api_key,
            "max_retries": 0,
        }
        answer = await litellm.acompletion(messages=[{"role": "user", "content": "Hi"}], **where)
        assert answer.choices[0].message.content == "Ahoy."

        f.script.replies = ["Boats come and go."]
        stream = await litellm.acompletion(
            messages=[{"role": "user", "content": [{"type": "text", "text": "Boats?"}]}],
            stream=True,
            **where,
        )
        text = "".join([c.choices[0].delta.content or "" async for c in stream])
        assert text == "Boats come and go."

        f.script.replies = [
            {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}]},
            "It is 21 degrees in Oslo.",
        ]
        asked: list[Any] = [{"role": "user", "content": "How warm is Oslo?"}]
        called = await litellm.acompletion(messages=asked, tools=[WEATHER], **where)
        message = called.choices[0].message
        assert called.choices[0].finish_reason == "tool_calls"
        [call] = message.tool_calls
        asked += [
            message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": call.id, "content": "21"},
        ]
        final = await litellm.acompletion(messages=asked, tools=[WEATHER], **where)
        assert final.choices[0].message.content == "It is 21 degrees in Oslo."

        f.script.replies = ['{"city": "Oslo", "degrees": 21}']
        typed = await litellm.acompletion(
            messages=[{"role": "user", "content": "Oslo?"}], response_format=City, **where
        )
        assert City.model_validate_json(typed.choices[0].message.content) == City(
            city="Oslo", degrees=21
        )
        assert sent(f.script)["response_format"]["type"] == "json_schema"

        f.script.replies = ['{"ok": true}']
        json_mode = await litellm.acompletion(
            messages=[{"role": "user", "content": "JSON please"}],
            response_format={"type": "json_object"},
            **where,
        )
        assert json.loads(json_mode.choices[0].message.content) == {"ok": True}

        with pytest.raises(litellm.exceptions.BadRequestError, match="log probabilities"):
            await litellm.acompletion(
                messages=[{"role": "user", "content": "Hi"}], logprobs=True, **where
            )
