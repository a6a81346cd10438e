"""The OpenAI-compatible front door: existing OpenAI clients talk to a persona.

`model` names an agent or a persona, by name (unique among a tenant's live ones). The
conversation continues in one of the persona's sessions:

- the `X-Personae-Session` header names it: the session's own history is used, and only
  the last user message of the request is taken;
- else the request's `user` (or the `X-Personae-User` header) names the person: their
  open session with this persona on the `openai` channel (made on first use), likewise;
- else each request is a conversation of its own: a new session receives the request's
  earlier messages as its history, then the last user message is answered.

A person named by `user` is a customer profile of the tenant (made the first time they are
seen, through a channel identity on `openai`), and their sessions carry it: a turn recalls
only that person's memories (and facts about their entities), so the people of one
application never see each other's. A request without `user` is nobody in particular: its
turn recalls the persona's memories of everyone, as a native session without a customer.

The client's system and developer messages follow the persona's system prompt (unless its
`client_instructions` is `ignore`); sampling parameters are the persona's neuromodulators'
unless its `client_sampling` is `client`. What a request sends and is left unused is named
in the answer's `X-Personae-Ignored` header.

A request that ends with the results of the client's functions (`tool` messages after the
assistant message that called them) continues the run that called them
(`resumption.resume_run`)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from personae.errors import Conflict, NotFound, ValidationFailed
from personae.kernel.principal import Principal
from personae.personas.models import Agent, Persona
from personae.personas.service import PERSONAS
from personae.profiles.service import on_channel
from personae.runtime.chat_completions import (
    ChatCompletionIn,
    ChatMessageIn,
    FunctionCall,
    text_of,
)
from personae.runtime.resumption import Result
from personae.sessions import log
from personae.sessions.service import SESSIONS, find_or_create

CHANNEL = "openai"


@dataclass(frozen=True)
class Speaker:
    persona: Persona
    agent: Agent | None


async def speaker(session: AsyncSession, model: str) -> Speaker:
    """The agent or persona `model` names (404 if none)."""
    agent = (
        await session.execute(select(Agent).where(Agent.name == model, Agent.deleted_at.is_(None)))
    ).scalar_one_or_none()
    if agent is not None:
        if agent.persona_id is None:
            raise Conflict(f"the agent {model!r} belongs to no persona")
        persona = (
            await session.execute(select(Persona).where(Persona.id == agent.persona_id))
        ).scalar_one()
        return Speaker(persona, agent)
    named = (
        await session.execute(
            select(Persona).where(Persona.name == model, Persona.deleted_at.is_(None))
        )
    ).scalar_one_or_none()  # names are unique among live personas
    if named is None:
        raise NotFound(f"no persona or agent is called {model!r}")
    return Speaker(named, None)


def end_user(in_body: str | None, in_header: str | None) -> str | None:
    """Whom the request is for: its `user`, or the `X-Personae-User` header (422 if both
    are given and differ)."""
    if in_body and in_header and in_body != in_header:
        raise ValidationFailed("names another person than X-Personae-User", field="user")
    return in_body or in_header or None


FRONT_DOOR_NEEDS = ("sessions:create", "sessions:read")
"""Besides a turn's own needs (`turn.TURN_NEEDS`): the front door finds or opens sessions."""


async def callable_models(
    session: AsyncSession, principal: Principal
) -> list[tuple[str, datetime, str]]:
    """(name, created, owned by) of each persona the caller may read, then each agent of a
    persona (with `agents:read`), by name."""
    personas = await session.execute(
        select(Persona.name, Persona.created_at)
        .where(Persona.deleted_at.is_(None), PERSONAS.visible(principal))
        .order_by(Persona.name)
    )
    found = [(name, created, "persona") for name, created in personas]
    if principal.can("agents:read"):
        agents = await session.execute(
            select(Agent.name, Agent.created_at)
            .where(Agent.deleted_at.is_(None), Agent.persona_id.is_not(None))
            .order_by(Agent.name)
        )
        found += [(name, created, "agent") for name, created in agents]
    return found


def last_user_message(messages: Sequence[ChatMessageIn]) -> tuple[int, str]:
    """The index and text of the last user message (400 when there is none)."""
    for index in range(len(messages) - 1, -1, -1):
        if messages[index].role == "user":
            text = text_of(messages[index].content, f"messages.{index}.content")
            if text:
                return index, text
    raise ValidationFailed("a user message to answer", field="messages")


def tool_results(messages: Sequence[ChatMessageIn]) -> list[Result]:
    """The results of the client's functions the request ends with (none: it ends with a
    user's message); 400 if they follow no assistant message that called functions."""
    index = len(messages)
    while index and messages[index - 1].role in ("tool", "function"):
        index -= 1
    if index == len(messages):
        return []
    if not index or not _calls_functions(messages[index - 1]):
        raise ValidationFailed(
            "tool messages follow the assistant message whose calls they answer",
            field=f"messages.{index}",
        )
    found = []
    for at in range(index, len(messages)):
        message = messages[at]
        text = text_of(message.content, f"messages.{at}.content")
        if message.role == "function":  # legacy: answers the call of its function
            if not message.name:
                raise ValidationFailed("the function this answers", field=f"messages.{at}.name")
            found.append(Result("", text, f"messages.{at}", message.name))
        elif not message.tool_call_id:
            raise ValidationFailed("the call this answers", field=f"messages.{at}.tool_call_id")
        else:
            found.append(Result(message.tool_call_id, text, f"messages.{at}"))
    return found


def _calls_functions(message: ChatMessageIn) -> bool:
    return message.role == "assistant" and bool(message.tool_calls or message.function_call)


async def conversation(
    session: AsyncSession,
    principal: Principal,
    who: Speaker,
    body: ChatCompletionIn,
    named: uuid.UUID | None,
    end_user: str | None,
) -> uuid.UUID:
    """The session the request continues (see the module's notes); its id."""
    ids = {"persona_id": who.persona.id, "agent_id": who.agent.id if who.agent else None}
    if named is not None:
        state = await SESSIONS.get(session, principal, named, action="update")
        if state.persona_id != who.persona.id:
            raise ValidationFailed(
                "the session belongs to another persona", field="X-Personae-Session"
            )
        if end_user is not None and state.customer_profile_id != await on_channel(
            session, principal, CHANNEL, end_user
        ):
            raise ValidationFailed("the session is another person's", field="user")
        return state.id
    if end_user:
        # one session per person and persona (a person may talk to several), with the
        # person's customer profile: their memories are theirs alone
        customer = await on_channel(session, principal, CHANNEL, end_user)
        user = f"{who.persona.id}:{end_user}"
        values = {"channel": CHANNEL, "user_channel_id": user, "customer_profile_id": customer}
        found, _created = await find_or_create(session, principal, {**values, **ids})
        found_id = uuid.UUID(str(found["id"]))
        if found.get("customer_profile_id") != str(customer):  # opened before profiles were
            await SESSIONS.update(session, principal, found_id, {"customer_profile_id": customer})
        return found_id
    made = await SESSIONS.create(session, principal, {**ids, "channel": CHANNEL})
    index, _text = last_user_message(body.messages)
    earlier: list[log.NewEvent] = []
    legacy = None  # the id given to the latest legacy `function_call`
    for at, message in enumerate(body.messages[:index]):
        if message.function_call is not None:
            legacy = f"legacy_{at}"
        earlier += _as_events(message, at, legacy)
    if earlier:
        await log.append(session, principal, made.id, earlier, system=True)
    return made.id


def _as_events(message: ChatMessageIn, at: int, legacy: str | None) -> list[log.NewEvent]:
    """An earlier message of the request as the session's log keeps it (system and
    developer messages are instructions, applied to each request: not history); a legacy
    function call and its answer are kept as a tool call (`legacy`, its id) and its result."""
    text = text_of(message.content, f"messages.{at}.content")
    if message.role == "user" and text:
        return [log.NewEvent("message.user", {"content": text})]
    if message.role == "assistant":
        calls = [
            {
                "id": c.id,
                "name": c.function.name,
                "arguments": _object(c.function, f"messages.{at}.tool_calls.{n}.function"),
            }
            for n, c in enumerate(message.tool_calls or ())
        ]
        if message.function_call is not None and legacy is not None:
            arguments = _object(message.function_call, f"messages.{at}.function_call")
            calls.append({"id": legacy, "name": message.function_call.name, "arguments": arguments})
        if not (text or calls):
            return []
        return [log.NewEvent("message.assistant", {"content": text, "tool_calls": calls or None})]
    answers = message.tool_call_id if message.role == "tool" else legacy
    if message.role in ("tool", "function") and answers:
        return [log.NewEvent("message.tool", {"content": text, "tool_call_id": answers})]
    return []


def _object(call: FunctionCall, at: str) -> dict[str, Any]:
    try:
        arguments = json.loads(call.arguments or "{}")
    except json.JSONDecodeError:
        arguments = None
    if not isinstance(arguments, dict):
        raise ValidationFailed("a JSON object", field=f"{at}.arguments")
    return arguments
