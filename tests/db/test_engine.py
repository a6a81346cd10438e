"""Engines for external servers: URL handling and the switch to the application role."""

from __future__ import annotations

import uuid

import pytest
from pydantic import SecretStr
from sqlalchemy import event, text

from personae.db.embedded import shared_buffers_mb
from personae.db.engine import DatabaseUrls, async_url, create_engine, external_urls, sessionmaker
from personae.db.tenancy import search_effort, tenant_session
from personae.errors import ConfigurationError
from personae.settings import APP_ROLE, Settings


def test_urls_are_normalised_to_asyncpg() -> None:
    assert async_url("postgres://u:p@h:5433/d") == "postgresql+asyncpg://u:p@h:5433/d"
    assert async_url("postgresql+psycopg://u@h/d") == "postgresql+asyncpg://u@h/d"
    with pytest.raises(ConfigurationError, match="not PostgreSQL"):
        async_url("sqlite:///x.db")


def test_external_server_without_app_url_switches_role() -> None:
    settings = Settings(database_url=SecretStr("postgresql://owner:pw@db/personae"))
    urls = external_urls(settings)
    assert urls.app == urls.owner and urls.app_role == APP_ROLE
    settings = Settings(
        database_url=SecretStr("postgresql://owner:pw@db/personae"),
        app_database_url=SecretStr("postgresql://personae_app:pw2@db/personae"),
    )
    assert external_urls(settings) == DatabaseUrls(
        "postgresql+asyncpg://owner:pw@db/personae",
        "postgresql+asyncpg://personae_app:pw2@db/personae",
    )


def test_settings_never_show_database_secrets() -> None:
    settings = Settings(database_url=SecretStr("postgresql://owner:hunter2@db/personae"))
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings.model_dump())


async def test_owner_connection_runs_as_the_app_role_when_told(urls: DatabaseUrls) -> None:
    engine = create_engine(urls.owner, Settings(statement_timeout_ms=1234), role=APP_ROLE)
    try:
        async with engine.connect() as conn:
            user = (await conn.execute(text("SELECT current_user"))).scalar_one()
            timeout = (await conn.execute(text("SHOW statement_timeout"))).scalar_one()
            bypass = (
                await conn.execute(
                    text("SELECT rolbypassrls FROM pg_roles WHERE rolname = current_user")
                )
            ).scalar_one()
    finally:
        await engine.dispose()
    assert (user, timeout, bypass) == (APP_ROLE, "1234ms", False)


def test_the_embedded_buffer_cache_follows_the_machine() -> None:
    gib = 2**30
    assert shared_buffers_mb(1 * gib) == 128  # never below PostgreSQL's own default
    assert shared_buffers_mb(8 * gib) == 512
    assert shared_buffers_mb(64 * gib) == 1024  # nor above a gigabyte


async def test_the_embedded_server_runs_with_its_buffer_cache(urls: DatabaseUrls) -> None:
    engine = create_engine(urls.owner, Settings())
    try:
        async with engine.connect() as conn:
            blocks = await conn.scalar(
                text("SELECT setting::int FROM pg_settings WHERE name = 'shared_buffers'")
            )
    finally:
        await engine.dispose()
    assert blocks * 8 // 1024 == shared_buffers_mb()


async def test_a_transaction_may_search_with_its_own_hnsw_effort(urls: DatabaseUrls) -> None:
    """`search_ef` for every connection; `tenant_session(ef_search=)` for one transaction
    (a turn's searches), gone with it."""
    engine = create_engine(urls.owner, Settings(search_ef=300), role=APP_ROLE)
    sessions = sessionmaker(engine)
    show = text("SELECT current_setting('hnsw.ef_search'), current_setting('personae.tenant_id')")
    tenant = uuid.uuid4()
    try:
        async with tenant_session(sessions, tenant, ef_search=64) as session:
            assert tuple((await session.execute(show)).one()) == ("64", str(tenant))
        async with tenant_session(sessions, tenant) as session:
            assert tuple((await session.execute(show)).one()) == ("300", str(tenant))
            await search_effort(session, 40)  # a transaction under way: at once
            assert tuple((await session.execute(show)).one()) == ("40", str(tenant))
    finally:
        await engine.dispose()


async def test_the_tenant_goes_with_the_begin_and_never_to_another_transaction(
    urls: DatabaseUrls,
) -> None:
    """On the product's connections the tenant binding rides with the BEGIN (no statement
    of its own); one a transaction left unsent is gone when the connection is returned."""
    engine = create_engine(urls.owner, Settings(pool_size=1), role=APP_ROLE)
    sessions = sessionmaker(engine)
    tenant = uuid.uuid4()
    show = text("SELECT coalesce(current_setting('personae.tenant_id', true), '')")
    sent: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: sent.append(a[2]))
    try:
        async with tenant_session(sessions, tenant) as session:
            assert (await session.execute(show)).scalar_one() == str(tenant)
        assert not any("set_config" in statement for statement in sent)
        async with tenant_session(sessions, tenant) as session:
            async with session.begin_nested():  # a savepoint begins on a bound transaction
                assert (await session.execute(show)).scalar_one() == str(tenant)
            assert (await session.execute(show)).scalar_one() == str(tenant)
        async with tenant_session(sessions, tenant) as session:
            await session.connection()  # begun, bound, yet nothing sent
        async with engine.begin() as conn:  # the same (only) connection, no tenant
            assert (await conn.execute(show)).scalar_one() == ""
        async with sessions() as session, session.begin():
            assert (await session.execute(show)).scalar_one() == ""
    finally:
        await engine.dispose()
