"""Any OpenAI-compatible `/chat/completions` endpoint (OpenAI, Ollama, vLLM, OpenRouter),
through the `openai` SDK's client (its retries, backoff, auth and errors): whole answers or
streamed ones, with tool calling. Bodies are sent and answers read in OpenAI's wire format
as JSON: the SDK's typed arguments and models cost a quarter of a whole call's CPU, and
more than half of a stream's."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import openai

from personae.errors import ProviderError
from personae.providers.chat.base import Completion, Message, Request, ToolCall
from personae.providers.chat.sdk import SDKChat
from personae.providers.sdk_errors import translated


class OpenAIChat(SDKChat):
    provider = "openai"

    def _client_class(self) -> Any:
        return openai.AsyncOpenAI

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int | None = None,
        request: Request | None = None,
    ) -> Completion:
        request = request or Request(max_tokens=max_tokens)
        with translated(f"the chat endpoint ({self.model})"):
            answer = await self._client.post(
                "/chat/completions", cast_to=object, body=self._body(messages, request)
            )
        with _known_shape(f"{self.model} answered"):
            return self._answered(answer, messages)

    def _answered(self, answer: Any, messages: Sequence[Message]) -> Completion:
        """The completion in a `/chat/completions` answer (OpenAI's wire format)."""
        if not answer.get("choices"):
            raise ProviderError(f"{self.model} answered with no choice")
        choice = answer["choices"][0]
        message = choice["message"]
        calls = tuple(
            ToolCall(c["id"], c["function"]["name"], c["function"]["arguments"])
            for c in message.get("tool_calls") or ()
            if c.get("type", "function") == "function"
        )
        if message.get("content") is None and not calls:
            raise ProviderError(f"{self.model} answered with no text")
        usage = answer.get("usage")
        return self._estimated(
            message.get("content") or "",
            answer.get("model") or self.model,
            (usage["prompt_tokens"], usage["completion_tokens"]) if usage else None,
            calls,
            choice.get("finish_reason"),
            messages,
        )

    async def stream(
        self, messages: Sequence[Message], request: Request | None = None
    ) -> AsyncIterator[str | Completion]:
        request = request or Request()
        what = f"the chat endpoint ({self.model})"
        body = self._body(messages, request) | {
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        with translated(what):
            chunks = await self._client.post(
                "/chat/completions",
                cast_to=object,
                body=body,
                stream=True,
                stream_cls=openai.AsyncStream[object],
            )
        pieces = _Pieces(self.model)
        try:
            with translated(what):
                async for chunk in chunks:
                    with _known_shape(f"{self.model} streamed a chunk"):
                        text = pieces.take(chunk)
                    if text:
                        yield text
        finally:
            await chunks.close()  # a consumer that stops reading stops the provider too
        yield self._estimated(
            "".join(pieces.text),
            pieces.model,
            pieces.usage,
            pieces.tool_calls(),
            pieces.finish,
            messages,
        )

    def _body(self, messages: Sequence[Message], request: Request) -> dict[str, Any]:
        """A call's JSON body: the model and `max_tokens`, then the config's options and
        the request's parameters over them, the messages and the tools."""
        body: dict[str, Any] = {"model": self.model}
        if request.max_tokens is not None:
            body["max_tokens"] = request.max_tokens
        body |= {**self._options, **request.parameters, "messages": wire(messages)}
        if request.tools:
            body["tools"] = list(request.tools)
            if request.tool_choice is not None:
                body["tool_choice"] = request.tool_choice
            if request.parallel_tool_calls is not None:
                body["parallel_tool_calls"] = request.parallel_tool_calls
        if request.response_format is not None:
            body["response_format"] = request.response_format
        return body

    def _estimated(
        self,
        text: str,
        model: str,
        usage: tuple[int, int] | None,
        calls: tuple[ToolCall, ...],
        finish: str | None,
        messages: Sequence[Message],
    ) -> Completion:
        """The completion, its usage estimated at 4 characters a token when the provider
        sent none."""
        if usage is None:
            sent = sum(len(m.content) for m in messages)
            usage = (sent // 4 + 1, len(text) // 4 + 1)
        return self._completion(text, model, usage, calls, finish)


def wire(messages: Sequence[Message]) -> list[Any]:
    """The messages as the OpenAI wire format has them."""
    shaped: list[dict[str, Any]] = []
    for m in messages:
        item: dict[str, Any] = {"role": m.role, "content": m.content}
        if m.images:
            item["content"] = [
                {"type": "text", "text": m.content},
                *({"type": "image_url", "image_url": {"url": url}} for url in m.images),
            ]
        if m.tool_calls:
            item["content"] = m.content or None
            item["tool_calls"] = [
                {
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": c.arguments},
                }
                for c in m.tool_calls
            ]
        if m.tool_call_id is not None:
            item["tool_call_id"] = m.tool_call_id
        shaped.append(item)
    return shaped


@contextmanager
def _known_shape(what: str) -> Iterator[None]:
    """Read an answer inside: one not in OpenAI's wire format is a ProviderError."""
    try:
        yield
    except (KeyError, IndexError, TypeError, AttributeError):
        raise ProviderError(f"{what} in an unknown shape") from None


class _Pieces:
    """What a stream's chunks (OpenAI's wire format, as JSON) add up to."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.text: list[str] = []
        self.usage: tuple[int, int] | None = None
        self.finish: str | None = None
        self._calls: dict[int, dict[str, str]] = {}

    def take(self, chunk: Any) -> str:
        """The chunk taken in; the text it adds."""
        self.model = chunk.get("model") or self.model
        if (usage := chunk.get("usage")) is not None:
            self.usage = (usage["prompt_tokens"], usage["completion_tokens"])
        added = ""
        for choice in chunk.get("choices") or ():
            self.finish = choice.get("finish_reason") or self.finish
            delta = choice.get("delta") or {}
            for piece in delta.get("tool_calls") or ():
                slot = self._calls.setdefault(piece["index"], {"id": "", "name": "", "args": ""})
                slot["id"] = piece.get("id") or slot["id"]
                if (function := piece.get("function")) is not None:
                    slot["name"] += function.get("name") or ""
                    slot["args"] += function.get("arguments") or ""
            if content := delta.get("content"):
                self.text.append(content)
                added += content
        return added

    def tool_calls(self) -> tuple[ToolCall, ...]:
        return tuple(
            ToolCall(slot["id"], slot["name"], slot["args"])
            for _, slot in sorted(self._calls.items())
        )
