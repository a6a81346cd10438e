"""An in-process client for the API, with its lifespan run (engines opened and closed)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from personae.api.app import create_app
from personae.db.engine import DatabaseUrls
from personae.identity.service import TenantCreated, create_tenant, sync_permissions
from personae.settings import Settings
from personae.startup import prepare_database
from personae.vault.crypto import new_key

ClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture(scope="session")
def api_client() -> ClientFactory:
    master_key = new_key()  # one installation, one master key, as in production

    @asynccontextmanager
    async def client(
        urls: DatabaseUrls, settings: Settings | None = None, *, prepare: bool = True
    ) -> AsyncIterator[httpx.AsyncClient]:
        settings = settings or Settings(connect_timeout_s=2)
        if prepare:
            await prepare_database(urls.owner, master_key)
        app = create_app(settings, urls, master_key=master_key)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://personae") as c:
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
    sessions = async_sessionmaker(app_engine, expire_on_commit=False)
    async with sessions() as session, session.begin():
        created = await create_tenant(session, name, owner_email)
    assert created.one_time_password
    return created
