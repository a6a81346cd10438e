"""The FastAPI application factory."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import event

from personae import __version__, validation
from personae.api import docs, problems, services
from personae.api.limits import BodySizeLimit
from personae.api.routes import (
    attachments,
    audit,
    auth,
    behaviour,
    documents,
    entities,
    flags,
    health,
    knowledge,
    members,
    memory,
    model_configs,
    openai_front,
    personas,
    profiles,
    rules,
    runs,
    scenarios,
    secrets,
    sessions,
    teams,
    telemetry,
    tokens,
    tools,
)
from personae.api.routes import settings as settings_routes
from personae.api.services import Services
from personae.cache import open_cache
from personae.db.engine import DatabaseUrls, create_engine, create_listen_engine, sessionmaker
from personae.db.listener import Listener
from personae.db.outage import Outage
from personae.identity.access_cache import CHANNEL as ACCESS_CHANNEL
from personae.identity.access_cache import AccessCache
from personae.identity.auth import Authenticator
from personae.identity.ratelimit import SharedWindow
from personae.identity.tokens import signing_key
from personae.jobs import JobDeps, Queue
from personae.providers.embeddings import Embedders
from personae.providers.embeddings.minilm import MiniLMEmbedder
from personae.runtime.fallback_chain import Limiter
from personae.runtime.runs import CANCEL_CHANNEL
from personae.runtime.turn import Runtime
from personae.sessions.feed import CHANNEL as FEED_CHANNEL
from personae.sessions.feed import PASSING_CHANNEL, Feed
from personae.sessions.hot import INFO_KEY as HOT_SESSIONS
from personae.sessions.hot import NAMESPACE as HOT_NAMESPACE
from personae.sessions.hot import HotSessions
from personae.settings import Settings
from personae.startup import settle_heap
from personae.storage import scanning
from personae.tasks import TASKS, WorkerServices
from personae.tools.execution import ToolRunner
from personae.vault.service import Vault

log = logging.getLogger(__name__)


def create_app(settings: Settings, urls: DatabaseUrls, *, master_key: bytes) -> FastAPI:
    """An app that talks to the database as the application role only."""

    outage = Outage()
    validation.set_max_depth(settings.max_json_depth)
    embedders = Embedders(settings)  # refuses an unknown embedder before serving

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(urls.app, settings, role=urls.app_role)
        event.listen(engine.sync_engine, "connect", lambda *_: outage.reached())
        listen_engine = create_listen_engine(urls.app, settings, role=urls.app_role)
        listener = Listener(listen_engine)
        access = AccessCache(ttl_s=settings.access_cache_ttl_s)
        listener.subscribe(
            ACCESS_CHANNEL, access.changed, lambda: access.reset(listening=listener.connected)
        )
        feed = Feed()
        listener.subscribe(FEED_CHANNEL, feed.notified, feed.wake_all)
        listener.subscribe(PASSING_CHANNEL, feed.passed)
        hot = HotSessions(open_cache(settings, HOT_NAMESPACE), settings.cache_ttl_s)
        listener.subscribe(
            FEED_CHANNEL, hot.notified, lambda: hot.reset(listening=listener.connected)
        )
        sessions = sessionmaker(
            engine,
            watchers=(access.watch,),
            info={HOT_SESSIONS: hot},
        )
        vault = Vault(master_key)
        tools = ToolRunner(settings, embedders)
        rates = open_cache(settings, "model-rate:*")
        limiter = Limiter(
            rates, window_s=settings.model_rate_window_s, max_wait_s=settings.model_rate_max_wait_s
        )
        runtime = Runtime(sessions, embedders, vault, limiter, tools, settings)
        listener.subscribe(CANCEL_CHANNEL, runtime.cancel_notified)
        queue = Queue(urls.app, settings, TASKS, role=urls.app_role)
        limits = open_cache(settings, "ratelimit:*")
        login = settings.login_window_s
        app.state.services = Services(
            settings=settings,
            engine=engine,
            sessions=sessions,
            embedders=embedders,
            vault=vault,
            tools=tools,
            runtime=runtime,
            queue=queue,
            listener=listener,
            feed=feed,
            hot_sessions=hot,
            authenticator=Authenticator(sessions, signing_key(master_key), settings, access),
            scanners=scanning.configured(settings),
            login_limits_pair=(
                SharedWindow(limits, "login:pair", settings.login_attempts_per_pair, login),
                SharedWindow(
                    limits, "login:pair-hour", settings.login_attempts_per_pair_hourly, 3600
                ),
            ),
            login_limit_ip=SharedWindow(limits, "login:ip", settings.login_attempts_per_ip, login),
            outage=outage,
            loop=asyncio.get_running_loop(),
        )
        await listener.start()
        await queue.open()
        if settings.worker:
            queue.start_worker(JobDeps(sessions, settings, WorkerServices(embedders, vault)))
        warming = asyncio.create_task(_warmed(embedders))
        try:
            yield
        finally:
            warming.cancel()
            await runtime.close()
            await rates.close()
            await queue.close()
            await listener.stop()
            await hot.cache.close()
            await limits.close()
            await embedders.close()
            await tools.close()
            await listen_engine.dispose()
            await engine.dispose()

    app = FastAPI(
        title="Personae",
        version=__version__,
        summary="An open, self-hostable backend for persona-based AI agents.",
        lifespan=lifespan,
        docs_url=None,  # served with local assets by `docs.install`
        redoc_url=None,
    )
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        paths={
            attachments.UPLOADS: settings.max_attachment_bytes,
            documents.UPLOADS: settings.max_document_bytes,
            memory.IMPORTS: settings.max_import_bytes,
        },
    )
    problems.install(app)
    docs.install(app)
    # routes are matched in order, router by router: a turn's and the log's first
    app.include_router(runs.router)
    app.include_router(openai_front.router)
    app.include_router(sessions.router)
    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(tokens.router)
    app.include_router(audit.router)
    app.include_router(secrets.router)
    app.include_router(members.router)
    app.include_router(flags.router)
    app.include_router(model_configs.router)
    app.include_router(settings_routes.router)
    app.include_router(teams.router)
    app.include_router(personas.router)
    app.include_router(attachments.router)
    app.include_router(telemetry.router)
    app.include_router(documents.router)
    app.include_router(knowledge.router)
    app.include_router(entities.router)
    app.include_router(memory.router)
    app.include_router(profiles.router)
    app.include_router(tools.router)
    app.include_router(rules.router)
    app.include_router(scenarios.router)
    app.include_router(behaviour.router)
    return app


def begin_stopping(app: FastAPI) -> None:
    """The server has been asked to stop (called from its signal handler, so through the
    loop): live streams end now, so that only requests that finish on their own are waited
    for (`shutdown_grace_s`)."""
    running = services.of(app)
    if running is not None and not running.loop.is_closed():
        running.loop.call_soon_threadsafe(running.feed.close)


async def _warmed(embedders: Embedders) -> None:
    """A local embedding model loaded in the background as the server starts serving, rather
    than by the first search (which waits for it if it comes sooner; health answers at
    once); then the heap is settled (`startup.settle_heap`)."""
    if isinstance(embedders.default, MiniLMEmbedder):
        try:
            await embedders.default.warm()
        except Exception as error:  # the first search reports it to its caller
            log.warning("embedding model not loaded at startup: %s", error)
    settle_heap()
