"""Erasing an episode takes every fact it alone supported: also what a fact write under
way at that moment recorded again of one (a fact cut short is recorded anew, citing the
episodes of the row it comes from)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from personae.db.tenancy import tenant_session
from personae.db.types import uuid7
from personae.kernel.principal import Principal
from personae.memory.facts import FactInput, record
from personae.memory.models import Episode
from personae.memory.resolution import EntityRef
from personae.providers.embeddings import Embedders
from personae.settings import Settings
from tests.waiting import eventually

ADA = EntityRef("Ada", "person")
WAITING = text(
    "SELECT count(*) FROM pg_stat_activity "
    "WHERE wait_event_type = 'Lock' AND query LIKE 'DELETE FROM episodes%'"
)


def moved(to: str, year: int, episodes: list[uuid.UUID]) -> FactInput:
    return FactInput(
        ADA,
        "lives_in",
        EntityRef(to, "place"),
        valid_from=datetime(year, 1, 1, tzinfo=UTC),
        source_episode_ids=episodes,
        exclusive=True,
    )


async def test_an_erasure_racing_a_fact_write_leaves_nothing_the_episode_supported(
    owner_engine: AsyncEngine, app_sessions: async_sessionmaker[AsyncSession]
) -> None:
    tenant, episode = uuid7(), uuid7()
    async with owner_engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO tenants (id, name, slug) VALUES (:id, 'Race', :slug)"),
            {"id": tenant, "slug": f"race-{tenant.hex[-8:]}"},
        )
        await conn.execute(
            text(
                "INSERT INTO episodes (tenant_id, id, episode_type, content) "
                "VALUES (:tenant, :id, 'NOTE', 'Ada: I moved to Paris')"
            ),
            {"tenant": tenant, "id": episode},
        )
    embedders, principal = Embedders(Settings(embedder="hashing")), Principal.system(tenant)
    async with tenant_session(app_sessions, tenant) as session:
        await record(session, principal, embedders, [moved("Paris", 2020, [episode])])

    written, release = asyncio.Event(), asyncio.Event()

    async def write() -> None:  # a later move: Paris is cut short, its remnant cites the episode
        async with tenant_session(app_sessions, tenant) as session:
            await record(session, principal, embedders, [moved("Rome", 2023, [])])
            written.set()
            await release.wait()

    async def erase() -> None:
        async with tenant_session(app_sessions, tenant) as session:
            await session.execute(delete(Episode).where(Episode.id == episode))

    async def erasure_waits() -> bool:
        async with owner_engine.connect() as conn:
            return bool(await conn.scalar(WAITING))

    writing = asyncio.create_task(write())
    await written.wait()
    erasing = asyncio.create_task(erase())
    await eventually(erasure_waits)  # the erasure began while the write was under way
    release.set()
    await asyncio.gather(writing, erasing)

    async with owner_engine.connect() as conn:
        left = (
            await conn.execute(
                text(
                    "SELECT fact, source_episode_ids FROM relationships "
                    "WHERE tenant_id = :tenant ORDER BY valid_from"
                ),
                {"tenant": tenant},
            )
        ).all()
    assert [fact for fact, _ in left] == ["Ada lives in Rome"]
    assert all(episode not in cited for _, cited in left)
