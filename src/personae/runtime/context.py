"""What a turn works with: the server process's services, and the state of one turn."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from personae.identity.principal import Principal
from personae.personas.models import Agent, Persona
from personae.providers.embeddings import Embedder, Embedders
from personae.runtime.providers import Clients, Limiter
from personae.runtime.record import Recorder
from personae.settings import Settings
from personae.tools.execution import ToolRunner
from personae.vault.service import Vault


@dataclass(frozen=True)
class Emitted:
    event: str
    """run.started, token, tool.called, tool.awaiting_approval, tool.result, message,
    run.completed, run.failed, run.cancelled."""
    data: dict[str, Any]


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
    """One run being carried through."""

    services: Services
    principal: Principal
    session_id: uuid.UUID
    text: str
    run_id: uuid.UUID
    trace_id: str
    persona: Persona
    agent: Agent | None
    recorder: Recorder
    embedder: Embedder
    started: float = field(default_factory=time.perf_counter)
    usages: list[dict[str, Any]] = field(default_factory=list)
    executed: list[dict[str, Any]] = field(default_factory=list)
    """The tools called: name and status."""
