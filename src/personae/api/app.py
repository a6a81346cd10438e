"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from personae import __version__
from personae.api import problems
from personae.api.routes import health
from personae.db.engine import DatabaseUrls, create_engine, sessionmaker
from personae.settings import Settings
from personae.vault.service import Vault


def create_app(settings: Settings, urls: DatabaseUrls, *, master_key: bytes) -> FastAPI:
    """An app that talks to the database as the application role only."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(urls.app, settings, role=urls.app_role)
        app.state.engine = engine
        app.state.sessions = sessionmaker(engine)
        app.state.vault = Vault(master_key)
        try:
            yield
        finally:
            await engine.dispose()

    app = FastAPI(
        title="Personae",
        version=__version__,
        summary="An open, self-hostable backend for persona-based AI agents.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    problems.install(app)
    app.include_router(health.router)
    return app
