"""The OpenAI-compatible front door: existing OpenAI clients talk to a persona.

`model` names an agent or a persona, by name (unique among a tenant's live ones). The
conversation continues in one of the persona's sessions:

- the `X-Personae-Session` header names it: the session's own history is used, and only
  the last user message of the request is taken;
- else the request's `user` names the person: their open session with this persona on
  the `openai` channel (made on first use), likewise;
- else each request is a conversation of its own: a new session receives the request's
  earlier messages as its history, then the last user message is answered.

The client's system messages are not used: the persona's system prompt governs. Sampling
parameters come from the persona's neuromodulators."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from personae.errors import Conflict, NotFound, ValidationFailed
from personae.kernel.principal import Principal
from personae.personas.models import Agent, Persona
from personae.personas.service import PERSONAS
from personae.sessions import log
from personae.sessions.event_types import TEXT
from personae.sessions.service import SESSIONS, find_or_create
from personae.validation import Input

CHANNEL = "openai"


class ChatMessageIn(Input):
    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | None = Field(default=None, max_length=TEXT)
    name: str | None = Field(default=None, max_length=255)
    tool_call_id: str | None = Field(default=None, max_length=255)


class StreamOptions(Input):
    include_usage: bool = False


class ChatCompletionIn(Input):
    """What OpenAI clients send; parameters a persona sets itself are accepted and left
    unused, so clients that send them still work."""

    model: str = Field(min_length=1, max_length=255)
    messages: list[ChatMessageIn] = Field(min_length=1, max_length=1000)
    stream: bool = False
    stream_options: StreamOptions | None = None
    user: str | None = Field(default=None, max_length=255)
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    n: int | None = Field(default=None, ge=1, le=1)
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    seed: int | None = None
    stop: str | list[str] | None = None
    metadata: dict[str, str] | None = None


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
    """The index and text of the last user message (422 when there is none)."""
    for index in range(len(messages) - 1, -1, -1):
        if messages[index].role == "user" and messages[index].content:
            return index, messages[index].content or ""
    raise ValidationFailed("a user message to answer", field="messages")


async def conversation(
    session: AsyncSession,
    principal: Principal,
    who: Speaker,
    body: ChatCompletionIn,
    named: uuid.UUID | None,
) -> uuid.UUID:
    """The session the request continues (see the module's notes); its id."""
    ids = {"persona_id": who.persona.id, "agent_id": who.agent.id if who.agent else None}
    if named is not None:
        state = await SESSIONS.get(session, principal, named, action="update")
        if state.persona_id != who.persona.id:
            raise ValidationFailed(
                "the session belongs to another persona", field="X-Personae-Session"
            )
        return state.id
    if body.user:
        # one session per person and persona (a person may talk to several)
        user = f"{who.persona.id}:{body.user}"
        values = {"channel": CHANNEL, "user_channel_id": user, **ids}
        found, _created = await find_or_create(session, principal, values)
        return uuid.UUID(str(found["id"]))
    made = await SESSIONS.create(session, principal, {**ids, "channel": CHANNEL})
    index, _text = last_user_message(body.messages)
    earlier = [
        log.NewEvent(f"message.{m.role}", {"content": m.content or ""}, 1, None)
        for m in body.messages[:index]
        if m.role in ("user", "assistant") and m.content
    ]
    if earlier:
        await log.append(session, principal, made.id, earlier, system=True)
    return made.id
