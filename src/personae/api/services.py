"""What a running app shares, in one typed container: made by `create_app`'s lifespan,
handed to routes through the `Shared` dependency (no route reads `app.state`)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, cast

from fastapi import Depends, FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from personae.db.listener import Listener
from personae.db.outage import Outage
from personae.identity.auth import Authenticator
from personae.identity.ratelimit import SharedWindow
from personae.jobs import Queue
from personae.providers.embeddings import Embedders
from personae.runtime.turn import Runtime
from personae.sessions.feed import Feed
from personae.sessions.hot import HotSessions
from personae.settings import Settings
from personae.storage.scanning import Scanner
from personae.tools.execution import ToolRunner
from personae.vault.service import Vault


@dataclass(frozen=True)
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    """Sessions as the application role (the access cache and hot sessions wired in)."""
    embedders: Embedders
    vault: Vault
    tools: ToolRunner
    runtime: Runtime
    queue: Queue
    listener: Listener
    feed: Feed
    hot_sessions: HotSessions
    authenticator: Authenticator
    scanners: Sequence[Scanner]
    login_limits_pair: Sequence[SharedWindow]
    """Sign-in attempts per account and address: a minute's, an hour's."""
    login_limit_ip: SharedWindow
    outage: Outage
    loop: asyncio.AbstractEventLoop


def of(app: FastAPI) -> Services | None:
    """The app's services while it runs (None before its lifespan starts)."""
    return cast(Services | None, getattr(app.state, "services", None))


def services(request: Request) -> Services:
    running = of(request.app)
    assert running is not None, "requests are served only while the app runs"
    return running


Shared = Annotated[Services, Depends(services)]
