"""Assembling a turn's prompt within the model's context length.

The prompt is the system prompt with what was retrieved (memories, knowledge), then as
much of the conversation as fits, newest kept first, then the user's message. Tokens are
estimated (`tokens`: 4 characters a token, 4 more a message) so no tokenizer is needed;
room is kept for the answer and for the tools' schemas. Retrieved context may take at most
half of what is left after the system prompt and the user's message; the history takes
the rest. A kept history never opens on a tool's answer cut from its call."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from personae.providers.chat import Message

DEFAULT_CONTEXT_LENGTH = 8192
PER_MESSAGE = 4


def tokens(text: str) -> int:
    """About how many tokens `text` holds (4 characters a token)."""
    return (len(text) + 3) // 4


def message_tokens(message: Message) -> int:
    calls = sum(tokens(c.name) + tokens(c.arguments) for c in message.tool_calls)
    return PER_MESSAGE + tokens(message.content) + calls


def answered(history: Sequence[Message]) -> list[Message]:
    """`history` with calls no tool message answers taken out of their assistant messages
    (a run cancelled or left waiting for a client's function), and answers to no call left
    out: models refuse a conversation with either."""
    answers = {m.tool_call_id for m in history if m.role == "tool"}
    calls: set[str] = set()
    kept = []
    for message in history:
        if message.role == "tool":
            if message.tool_call_id in calls:
                kept.append(message)
            continue
        if message.tool_calls:
            done = tuple(c for c in message.tool_calls if c.id in answers)
            calls.update(c.id for c in done)
            if not done and not message.content:
                continue
            message = replace(message, tool_calls=done)
        kept.append(message)
    return kept


def _with_context(system: str, items: Sequence[str]) -> str:
    lines = "\n".join(f"- {item}" for item in items)
    return f"{system}\n\nWhat you may need (from memory and documents):\n{lines}"


def schema_tokens(tools: Sequence[Mapping[str, Any]]) -> int:
    return sum(tokens(json.dumps(t)) for t in tools)


@dataclass(frozen=True)
class Prompt:
    messages: list[Message]
    tokens: int
    history_kept: int
    history_dropped: int
    context_kept: int
    context_dropped: int
    budget: int
    notes: dict[str, Any] = field(default_factory=dict)


def assemble(
    system: str,
    context: Sequence[str],
    history: Sequence[Message],
    asked: str | Sequence[Message],
    *,
    context_length: int | None,
    answer_tokens: int,
    tool_tokens: int = 0,
) -> Prompt:
    """The messages to send, and what was kept of the context and the history. `asked` is
    the user's message (or this turn's messages: the user's, then calls and their results),
    always kept."""
    budget = (context_length or DEFAULT_CONTEXT_LENGTH) - answer_tokens - tool_tokens
    turn = [Message("user", asked)] if isinstance(asked, str) else list(asked)
    turn_tokens = sum(message_tokens(m) for m in turn)
    fixed_system = message_tokens(Message("system", system))
    room = max(0, budget - fixed_system - turn_tokens)
    kept_context: list[str] = []
    prompt_system = system
    for item in context:  # best first: the first that does not fit ends it
        longer = _with_context(system, [*kept_context, item])
        if message_tokens(Message("system", longer)) - fixed_system > room // 2:
            break
        kept_context.append(item)
        prompt_system = longer
    left = budget - message_tokens(Message("system", prompt_system)) - turn_tokens
    kept: list[Message] = []
    for message in reversed(answered(history)):
        cost = message_tokens(message)
        if cost > left:
            break
        kept.append(message)
        left -= cost
    kept.reverse()
    while kept and kept[0].role == "tool":  # its call was cut: the answer alone misleads
        kept.pop(0)
    messages = [Message("system", prompt_system), *kept, *turn]
    return Prompt(
        messages=messages,
        tokens=sum(message_tokens(m) for m in messages),
        history_kept=len(kept),
        history_dropped=len(history) - len(kept),
        context_kept=len(kept_context),
        context_dropped=len(context) - len(kept_context),
        budget=budget,
    )
