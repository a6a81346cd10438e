"""An in-process client for the API, with its lifespan run (engines opened and closed)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from personae.api.app import create_app
from personae.db.engine import DatabaseUrls, sessionmaker
from personae.identity.service import TenantCreated, create_tenant, sync_permissions
from personae.settings import Settings
from personae.startup import prepare_database
from personae.vault.crypto import new_key
from tests.serving import on_loopback

ClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


MASTER_KEY = new_key()  # one installation, one master key, as in production


@asynccontextmanager
async def running_app(
    urls: DatabaseUrls, settings: Settings | None = None, *, prepare: bool = True
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The app with its lifespan running, and an in-process client for it (no job worker:
    tests of jobs run theirs)."""
    settings = (settings or Settings(connect_timeout_s=2)).model_copy(update={"worker": False})
    if prepare:
        await prepare_database(urls.owner, MASTER_KEY)
    app = create_app(settings, urls, master_key=MASTER_KEY)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://personae") as client:
            yield app, client


@pytest.fixture(scope="session")
def api_client() -> ClientFactory:
    @asynccontextmanager
    async def client(
        urls: DatabaseUrls, settings: Settings | None = None, *, prepare: bool = True
    ) -> AsyncIterator[httpx.AsyncClient]:
        async with running_app(urls, settings, prepare=prepare) as (_app, c):
            yield c

    return client


async def bearer(client: httpx.AsyncClient, email: str, password: str) -> dict[str, str]:
    """Sign in over HTTP; the Authorization header for the new access token."""
    response = await client.post("/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def new_tenant(
    owner_engine: AsyncEngine, app_engine: AsyncEngine, name: str, owner_email: str
) -> TenantCreated:
    """A tenant with its owner, made as `personae tenant create` makes it."""
    async with owner_engine.begin() as conn:
        await sync_permissions(conn)
    sessions = sessionmaker(app_engine)
    async with sessions() as session, session.begin():
        created = await create_tenant(session, name, owner_email)
    assert created.one_time_password
    return created


PASSWORD = "correct horse battery staple"


async def join(
    client: httpx.AsyncClient, owner: dict[str, str], email: str, role: str
) -> dict[str, str]:
    """Invite `email` with `role`, accept with PASSWORD, sign in: their Authorization header."""
    invitation = await client.post(
        "/v1/invitations", headers=owner, json={"email": email, "role": role}
    )
    assert invitation.status_code == 201, invitation.text
    accepted = await client.post(
        "/v1/invitations/accept", json={"token": invitation.json()["token"], "password": PASSWORD}
    )
    assert accepted.status_code == 200, accepted.text
    return await bearer(client, email, PASSWORD)


async def user_id(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    me = await client.get("/v1/me", headers=headers)
    assert me.status_code == 200, me.text
    return str(me.json()["user_id"])


@asynccontextmanager
async def served(
    urls: DatabaseUrls, settings: Settings | None = None
) -> AsyncIterator[tuple[FastAPI, str]]:
    """The app behind a real uvicorn server on 127.0.0.1 (for streaming): (app, base URL)."""
    settings = (settings or Settings(connect_timeout_s=2)).model_copy(update={"worker": False})
    await prepare_database(urls.owner, MASTER_KEY)
    app = create_app(settings, urls, master_key=MASTER_KEY)
    async with on_loopback(app) as port:
        yield app, f"http://127.0.0.1:{port}"


@pytest.fixture
async def fresh_owner(owner_engine: AsyncEngine, app_engine: AsyncEngine) -> tuple[str, str]:
    """A tenant of the test's own: its owner's email and password."""
    email = f"owner-{uuid.uuid4().hex[:8]}@example.com"
    created = await new_tenant(owner_engine, app_engine, f"Tenant {email}", email)
    assert created.one_time_password
    return email, created.one_time_password


@pytest.fixture(scope="module")
async def owner_password(
    request: pytest.FixtureRequest, owner_engine: AsyncEngine, app_engine: AsyncEngine
) -> str:
    """A tenant of the test module's own, owned by its `OWNER` email: the owner's password."""
    module = request.module
    created = await new_tenant(owner_engine, app_engine, module.__name__, module.OWNER)
    assert created.one_time_password
    return created.one_time_password
