"""The Chat Completions request as OpenAI documents it, and what a turn makes of it.

Every documented field is accepted; each is honoured, or left unused where that changes
nothing a client can see, or refused with OpenAI's own error (400, `invalid_request_error`,
the field as `param`, `unsupported_parameter` / `unsupported_value` as `code`).
`docs/openai.md` lists the fields and what becomes of each."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, best_match
from pydantic import Field, JsonValue

from personae.errors import ValidationFailed
from personae.sessions.event_types import TEXT
from personae.validation import Input

NAME = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
"""A function's name, as OpenAI allows it."""


class TextPart(Input):
    type: Literal["text"]
    text: str = Field(max_length=TEXT)


class ImageUrl(Input):
    url: str = Field(min_length=1, max_length=20_000_000)
    detail: Literal["auto", "low", "high"] | None = None


class ImagePart(Input):
    type: Literal["image_url"]
    image_url: ImageUrl


class RefusalPart(Input):
    type: Literal["refusal"]
    refusal: str = Field(max_length=TEXT)


class OtherPart(Input):
    """Audio and files: read, then refused by name."""

    type: Literal["input_audio", "file"]
    input_audio: dict[str, JsonValue] | None = None
    file: dict[str, JsonValue] | None = None


Part = Annotated[TextPart | ImagePart | RefusalPart | OtherPart, Field(discriminator="type")]


class FunctionCall(Input):
    name: str = Field(min_length=1, max_length=255)
    arguments: str = Field(default="{}", max_length=TEXT)


class ToolCallIn(Input):
    id: str = Field(min_length=1, max_length=255)
    type: Literal["function"] = "function"
    function: FunctionCall


class ChatMessageIn(Input):
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[Part] | None = Field(default=None, max_length=TEXT)
    name: str | None = Field(default=None, max_length=255)
    tool_call_id: str | None = Field(default=None, max_length=255)
    tool_calls: list[ToolCallIn] | None = Field(default=None, max_length=128)
    function_call: FunctionCall | None = None
    refusal: str | None = Field(default=None, max_length=TEXT)
    audio: dict[str, JsonValue] | None = None


class FunctionSpec(Input):
    name: NAME
    description: str | None = Field(default=None, max_length=100_000)
    parameters: dict[str, JsonValue] | None = None
    strict: bool | None = None


class ToolSpec(Input):
    type: Literal["function"]
    function: FunctionSpec


class NamedFunction(Input):
    name: NAME


class NamedTool(Input):
    type: Literal["function"]
    function: NamedFunction


class JsonSchemaFormat(Input):
    name: NAME
    description: str | None = Field(default=None, max_length=100_000)
    schema_: dict[str, JsonValue] | None = Field(default=None, alias="schema")
    strict: bool | None = None


class ResponseFormat(Input):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaFormat | None = None


class StreamOptions(Input):
    include_usage: bool = False
    include_obfuscation: bool | None = None


class ChatCompletionIn(Input):
    """What OpenAI clients send (every field of the reference; see the module's notes)."""

    model: str = Field(min_length=1, max_length=255)
    messages: list[ChatMessageIn] = Field(min_length=1, max_length=1000)
    stream: bool = False
    stream_options: StreamOptions | None = None
    user: str | None = Field(default=None, max_length=255)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    n: int | None = Field(default=None, ge=1, le=128)
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    seed: int | None = None
    stop: str | list[str] | None = None
    metadata: dict[str, str] | None = None
    tools: list[ToolSpec] | None = Field(default=None, max_length=128)
    tool_choice: Literal["none", "auto", "required"] | NamedTool | None = None
    parallel_tool_calls: bool | None = None
    functions: list[FunctionSpec] | None = Field(default=None, max_length=128)
    function_call: Literal["none", "auto"] | NamedFunction | None = None
    response_format: ResponseFormat | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    logit_bias: dict[str, float] | None = None
    store: bool | None = None
    reasoning_effort: Literal["none", "minimal", "low", "medium", "high", "xhigh"] | None = None
    service_tier: str | None = Field(default=None, max_length=50)
    modalities: list[Literal["text", "audio"]] | None = None
    audio: dict[str, JsonValue] | None = None
    prediction: dict[str, JsonValue] | None = None
    verbosity: Literal["low", "medium", "high"] | None = None
    web_search_options: dict[str, JsonValue] | None = None
    prompt_cache_key: str | None = Field(default=None, max_length=1000)
    prompt_cache_options: dict[str, JsonValue] | None = None
    prompt_cache_retention: Literal["in_memory", "24h"] | None = None
    safety_identifier: str | None = Field(default=None, max_length=255)
    moderation: dict[str, JsonValue] | None = None


SAMPLING = ("temperature", "top_p", "presence_penalty", "frequency_penalty", "seed", "stop")
"""Sent to the model when the persona lets the client set them (`client_sampling`)."""


def unsupported(field_: str, what: str, *, value: bool = False) -> ValidationFailed:
    """A refusal as OpenAI words one (`param` the field, `code` the kind)."""
    refused = ValidationFailed(what, field=field_)
    refused.extra["code"] = "unsupported_value" if value else "unsupported_parameter"
    return refused


def refuse_unsupported(body: ChatCompletionIn) -> None:
    """400 for what the front door cannot do (a choice a client made that would be lost)."""
    if body.n not in (None, 1):
        raise unsupported("n", "only one choice (n: 1) is answered", value=True)
    if body.logprobs or body.top_logprobs:
        field_ = "logprobs" if body.logprobs else "top_logprobs"
        raise unsupported(field_, "log probabilities are not returned by personas")
    if body.logit_bias:
        raise unsupported("logit_bias", "logit_bias is not supported: personas choose words")
    if body.audio is not None or "audio" in (body.modalities or ()):
        raise unsupported("modalities", "personas answer in text only", value=True)
    if body.moderation is not None:
        raise unsupported("moderation", "moderation is not run on personas' turns")
    if body.web_search_options is not None:
        raise unsupported("web_search_options", "web search is a tool: give the persona one")
    if body.tools and body.functions:
        raise ValidationFailed("give tools or the older functions, not both", field="functions")


@dataclass(frozen=True)
class Asked:
    """What an OpenAI client asks of a turn besides its message."""

    parameters: Mapping[str, Any] = field(default_factory=dict)
    """Sampling parameters over the persona's (where it lets the client set them)."""
    max_tokens: int | None = None
    """At most this many tokens in the answer (never more than `turn_answer_tokens`)."""
    instructions: str = ""
    """The client's system and developer messages, after the persona's system prompt."""
    tools: Sequence[Mapping[str, Any]] = ()
    """The client's functions (OpenAI function schemas): a call to one is returned to it."""
    tool_choice: str | Mapping[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    response_format: Mapping[str, Any] | None = None
    """`json_object` or `json_schema`: the answer is checked (and asked again) to match."""
    ignored: tuple[str, ...] = ()
    """The fields sent and left unused (said in `X-Personae-Ignored`)."""
    images: tuple[str, ...] = ()
    """The images of the message answered (for the persona's models with vision)."""
    legacy: bool = False
    """The client gave `functions`: a call goes back as `function_call`, one at a time."""

    @property
    def client_functions(self) -> frozenset[str]:
        return frozenset(str(t["function"]["name"]) for t in self.tools)


def asked(body: ChatCompletionIn, *, client_sampling: bool, client_instructions: bool) -> Asked:
    """What `body` asks of the turn, under the persona's policies (`Persona.client_*`)."""
    refuse_unsupported(body)
    sent = body.model_dump(exclude_unset=True, by_alias=True)
    ignored = [name for name in (*SAMPLING, "reasoning_effort") if sent.get(name) is not None]
    parameters: dict[str, Any] = {}
    if client_sampling:
        parameters = {name: sent[name] for name in ignored}
        ignored = []
    ignored += [name for name in ("service_tier", "verbosity", "prediction") if name in sent]
    system = [
        (index, text_of(message.content, f"messages.{index}.content"))
        for index, message in enumerate(body.messages)
        if message.role in ("system", "developer")
    ]
    if system and not client_instructions:
        ignored += [f"messages.{index}" for index, _ in system]
    tools = [t.model_dump(exclude_none=True) for t in body.tools or ()] + [
        {"type": "function", "function": f.model_dump(exclude_none=True)}
        for f in body.functions or ()
    ]
    users = [m for m in body.messages if m.role == "user"]
    return Asked(
        images=images_of(users[-1].content) if users else (),
        parameters=parameters,
        max_tokens=body.max_completion_tokens or body.max_tokens,
        instructions="\n\n".join(text for _, text in system if text) if client_instructions else "",
        tools=tools,
        tool_choice=_tool_choice(body),
        parallel_tool_calls=False if body.functions else body.parallel_tool_calls,
        legacy=bool(body.functions),
        response_format=_response_format(body.response_format),
        ignored=tuple(ignored),
    )


def text_of(content: str | list[Any] | None, field_: str) -> str:
    """A message's text: its text parts joined (images aside: `images_of`; 400 naming an
    audio or file part)."""
    if content is None or isinstance(content, str):
        return content or ""
    pieces = []
    for index, part in enumerate(content):
        if isinstance(part, TextPart):
            pieces.append(part.text)
        elif isinstance(part, RefusalPart):
            pieces.append(part.refusal)
        elif isinstance(part, OtherPart):
            raise unsupported(f"{field_}.{index}", f"{part.type} parts are not read", value=True)
    return "\n".join(pieces)


def images_of(content: str | list[Any] | None) -> tuple[str, ...]:
    """The URLs of a message's image parts."""
    if content is None or isinstance(content, str):
        return ()
    return tuple(part.image_url.url for part in content if isinstance(part, ImagePart))


def _tool_choice(body: ChatCompletionIn) -> str | dict[str, Any] | None:
    choice = body.tool_choice if body.tool_choice is not None else body.function_call
    if isinstance(choice, NamedTool):
        return choice.model_dump()
    if isinstance(choice, NamedFunction):
        return {"type": "function", "function": {"name": choice.name}}
    return choice


def _response_format(given: ResponseFormat | None) -> dict[str, Any] | None:
    if given is None or given.type == "text":
        return None
    if given.type == "json_schema":
        if given.json_schema is None:
            raise ValidationFailed("the schema is missing", field="response_format.json_schema")
        try:
            Draft202012Validator.check_schema(given.json_schema.schema_ or {})
        except SchemaError as wrong:
            raise ValidationFailed(
                f"not a JSON schema: {wrong.message}", field="response_format.json_schema.schema"
            ) from None
    return given.model_dump(exclude_none=True, by_alias=True)


def format_instruction(response_format: Mapping[str, Any] | None) -> str:
    """What the system prompt says of the answer's format (models that do not take
    `response_format` follow it too)."""
    if response_format is None:
        return ""
    said = "Answer with one JSON object and nothing else: no prose, no code fence."
    schema = (response_format.get("json_schema") or {}).get("schema")
    if schema is not None:
        said += f" It must match this JSON schema:\n{json.dumps(schema)}"
    return said


FENCED = re.compile(r"^\s*```(?:json)?\s*\n(.*)\n\s*```\s*$", re.DOTALL)


def formatted(response_format: Mapping[str, Any] | None, text: str) -> tuple[str, str | None]:
    """The answer as the client gets it (a JSON answer out of its code fence), and what is
    wrong with it under `response_format` (None: nothing)."""
    if response_format is None:
        return text, None
    fenced = FENCED.match(text)
    text = fenced.group(1) if fenced else text.strip()
    try:
        value = json.loads(text)
    except json.JSONDecodeError as wrong:
        return text, f"it is not JSON ({wrong.msg} at character {wrong.pos})"
    if not isinstance(value, dict):
        return text, "it is JSON but not an object"
    schema = (response_format.get("json_schema") or {}).get("schema")
    if schema is None:
        return text, None
    error = best_match(Draft202012Validator(schema).iter_errors(value))
    return text, None if error is None else f"at {error.json_path}: {error.message}"
