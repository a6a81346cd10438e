"""What a turn works with: the server process's services, and the state of one turn."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from personae.errors import PersonaeError
from personae.kernel.principal import Principal
from personae.personas.models import Agent, Persona
from personae.providers.chat import Message
from personae.providers.embeddings import Embedder, Embedders
from personae.runtime.chat_completions import Asked
from personae.runtime.fallback_chain import Clients, FallbackChain, Limiter
from personae.runtime.record import Recorder
from personae.sessions.models import Run
from personae.settings import Settings
from personae.tools.execution import ToolRunner
from personae.vault.service import Vault

if TYPE_CHECKING:  # it needs this module's Services
    from personae.runtime.preparation import Retrieved


@dataclass(frozen=True)
class Emitted:
    event: str
    """run.started, token, tool.called, tool.awaiting_approval, tool.result, message,
    run.completed, run.requires_action (the client's functions called), run.failed,
    run.cancelled."""
    data: dict[str, Any]


@dataclass(frozen=True)
class Speaker:
    """Who answers in a session, to whom, and the tenant's embedder."""

    persona: Persona
    agent: Agent | None
    customer_profile_id: uuid.UUID | None
    embedder: Embedder


@dataclass
class Services:
    """What turns need from the server process."""

    sessions: async_sessionmaker[AsyncSession]
    embedders: Embedders
    vault: Vault
    limiter: Limiter
    tools: ToolRunner
    settings: Settings
    clients: Clients = field(default_factory=Clients)


@dataclass
class Turn:
    """One run being carried through, with what it was started for."""

    services: Services
    principal: Principal
    run: Run
    persona: Persona
    agent: Agent | None
    embedder: Embedder
    """The tenant's."""
    chain: FallbackChain | PersonaeError
    """The persona's (or agent's) models, opened (or why they could not be: the run fails
    with it)."""
    history: list[Message]
    """The conversation's newest messages before this turn's, oldest first."""
    retrieved: asyncio.Future[Retrieved]
    """What the prompt is made from, found as the run started."""
    asked: Asked = field(default_factory=Asked)
    """What an OpenAI client asks besides the message (nothing through the native API)."""
    resumed: bool = False
    """Whether the run goes on after the client's functions answered (`history` then ends
    with this turn's message, the calls and their results)."""
    started: float = field(default_factory=time.perf_counter)
    usages: list[dict[str, Any]] = field(default_factory=list)
    executed: list[dict[str, Any]] = field(default_factory=list)
    """The tools called: name and status."""
    rules_matched: list[dict[str, Any]] = field(default_factory=list)
    """The rules kept for this turn, with their scores (the turn record keeps them)."""
    scenario_state: dict[str, Any] | None = None
    """Where the turn took the session in its scenarios, and why (the turn record's)."""
    recorder: Recorder = field(init=False)

    def __post_init__(self) -> None:
        self.recorder = Recorder(
            self.services.sessions,
            self.principal,
            self.session_id,
            self.run_id,
            self.trace_id,
            flush_after_s=self.services.settings.turn_steps_flush_s,
        )

    @property
    def run_id(self) -> uuid.UUID:
        return self.run.id

    @property
    def trace_id(self) -> str:
        return self.run.trace_id

    @property
    def session_id(self) -> uuid.UUID:
        assert self.run.session_id is not None
        return self.run.session_id

    @property
    def text(self) -> str:
        """The user's message."""
        return self.run.input
