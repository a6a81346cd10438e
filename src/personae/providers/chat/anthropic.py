"""Anthropic's Messages API, through the `anthropic` SDK (the `anthropic` extra), with
its retries and backoff: whole answers or streamed ones, with tool calling.

The wire format differs from OpenAI's, and this module is where it is translated: the
system prompt goes apart; a tool call is a `tool_use` block of the assistant's message,
its result a `tool_result` block of the next user message; tools are described by an
`input_schema`; `max_tokens` is required. Of the sampling parameters only those the API
knows are sent (`temperature`, at most 1, `top_p`, `top_k`); the others (OpenAI's
penalties) are dropped."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

from personae.errors import ConfigurationError, ProviderError
from personae.providers.chat.base import Completion, Message, Request, ToolCall
from personae.providers.chat.sdk import SDKChat
from personae.providers.sdk_errors import translated

DEFAULT_MAX_TOKENS = 1024
"""Sent when the request names none (the API requires it)."""
SAMPLING = ("temperature", "top_p", "top_k")


def _sdk() -> Any:
    try:
        import anthropic
    except ImportError:
        raise ConfigurationError(
            "the anthropic provider needs its extra: pip install 'personae[anthropic]'"
        ) from None
    return anthropic


class AnthropicChat(SDKChat):
    provider = "anthropic"

    def _client_class(self) -> Any:
        return _sdk().AsyncAnthropic

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int | None = None,
        request: Request | None = None,
    ) -> Completion:
        request = request or Request(max_tokens=max_tokens)
        with self._translated():
            answer = await self._client.messages.create(**self._arguments(messages, request))
        text = "".join(block.text for block in answer.content if block.type == "text")
        calls = tuple(
            ToolCall(block.id, block.name, json.dumps(block.input))
            for block in answer.content
            if block.type == "tool_use"
        )
        if not text and not calls:
            raise ProviderError(f"{self.model} answered with no text")
        usage = (answer.usage.input_tokens, answer.usage.output_tokens)
        return self._completion(text, answer.model or self.model, usage, calls, answer.stop_reason)

    async def stream(
        self, messages: Sequence[Message], request: Request | None = None
    ) -> AsyncIterator[str | Completion]:
        request = request or Request()
        with self._translated():
            events = await self._client.messages.create(
                **self._arguments(messages, request), stream=True
            )
        text: list[str] = []
        calls: dict[int, dict[str, str]] = {}
        input_tokens = output_tokens = 0
        finish, model = None, self.model
        try:
            with self._translated():
                async for event in events:
                    if event.type == "message_start":
                        model = event.message.model or model
                        input_tokens = event.message.usage.input_tokens
                    elif event.type == "content_block_start":
                        block = event.content_block
                        if block.type == "tool_use":
                            calls[event.index] = {"id": block.id, "name": block.name, "args": ""}
                    elif event.type == "content_block_delta":
                        delta = event.delta
                        if delta.type == "text_delta" and delta.text:
                            text.append(delta.text)
                            yield delta.text
                        elif delta.type == "input_json_delta" and event.index in calls:
                            calls[event.index]["args"] += delta.partial_json
                    elif event.type == "message_delta":
                        finish = event.delta.stop_reason or finish
                        output_tokens = event.usage.output_tokens
        finally:
            await events.close()  # a consumer that stops reading stops the provider too
        tool_calls = tuple(
            ToolCall(slot["id"], slot["name"], slot["args"] or "{}")
            for _, slot in sorted(calls.items())
        )
        usage = (input_tokens, output_tokens)
        yield self._completion("".join(text), model, usage, tool_calls, finish)

    def _arguments(self, messages: Sequence[Message], request: Request) -> dict[str, Any]:
        system, turns = wire(messages)
        sampling = {
            name: value
            for name, value in {**self._options, **request.parameters}.items()
            if name in SAMPLING
        }
        if "temperature" in sampling:
            sampling["temperature"] = min(1.0, max(0.0, float(sampling["temperature"])))
        arguments: dict[str, Any] = {
            "model": self.model,
            "messages": turns,
            "max_tokens": request.max_tokens or DEFAULT_MAX_TOKENS,
        }
        if system:
            arguments["system"] = system
        if sampling:
            arguments["extra_body"] = sampling
        if request.tools:
            arguments["tools"] = [_tool(t) for t in request.tools]
            choice = _tool_choice(request.tool_choice, request.parallel_tool_calls)
            if choice is not None:
                arguments["tool_choice"] = choice
        return arguments

    def _translated(self) -> AbstractContextManager[None]:
        return translated(f"the Anthropic endpoint ({self.model})", _sdk())


def _tool_choice(choice: str | Mapping[str, Any] | None, parallel: bool | None) -> Any:
    """OpenAI's `tool_choice` and `parallel_tool_calls` as Anthropic's `tool_choice`."""
    if choice is None and parallel is None:
        return None
    if isinstance(choice, Mapping):
        said: dict[str, Any] = {"type": "tool", "name": choice["function"]["name"]}
    else:
        said = {"type": {"none": "none", "required": "any"}.get(choice or "auto", "auto")}
    if parallel is False and said["type"] != "none":
        said["disable_parallel_tool_use"] = True
    return said


def _tool(function: Mapping[str, Any]) -> dict[str, Any]:
    """An OpenAI function schema as Anthropic describes a tool."""
    spec = function.get("function", function)
    return {
        "name": spec["name"],
        "description": spec.get("description", ""),
        "input_schema": spec.get("parameters") or {"type": "object", "properties": {}},
    }


def wire(messages: Sequence[Message]) -> tuple[str, list[dict[str, Any]]]:
    """The system prompt, and the conversation as the Messages API has it (tool results
    are blocks of a user message; consecutive ones share it)."""
    system = "\n\n".join(m.content for m in messages if m.role == "system" and m.content)
    turns: list[dict[str, Any]] = []
    for m in messages:
        if m.role == "system":
            continue
        if m.role == "tool":
            block = {"type": "tool_result", "tool_use_id": m.tool_call_id, "content": m.content}
            if turns and turns[-1]["role"] == "user" and isinstance(turns[-1]["content"], list):
                turns[-1]["content"].append(block)
            else:
                turns.append({"role": "user", "content": [block]})
            continue
        if m.role == "assistant" and m.tool_calls:
            blocks: list[dict[str, Any]] = (
                [{"type": "text", "text": m.content}] if m.content else []
            )
            blocks += [
                {"type": "tool_use", "id": c.id, "name": c.name, "input": _arguments(c.arguments)}
                for c in m.tool_calls
            ]
            turns.append({"role": "assistant", "content": blocks})
            continue
        if m.images:
            shown = [{"type": "text", "text": m.content}, *(_image(url) for url in m.images)]
            turns.append({"role": m.role, "content": shown})
            continue
        turns.append({"role": m.role, "content": m.content})
    return system, turns


DATA_URL = re.compile(r"^data:(?P<type>image/[\w.+-]+);base64,(?P<data>.*)$", re.DOTALL)


def _image(url: str) -> dict[str, Any]:
    """An image block: a `data:` URL's bytes, or the URL Anthropic fetches."""
    inline = DATA_URL.match(url)
    if inline:
        source = {"type": "base64", "media_type": inline["type"], "data": inline["data"]}
        return {"type": "image", "source": source}
    return {"type": "image", "source": {"type": "url", "url": url}}


def _arguments(text: str) -> Any:
    try:
        parsed = json.loads(text or "{}")
    except json.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}
