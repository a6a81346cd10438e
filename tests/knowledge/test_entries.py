"""Entries of the `embeddings` table (what semantic tool discovery stands on): found by
meaning and words in one statement, per tenant, one per entity and model."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from personae.db.tenancy import tenant_session
from personae.kernel.principal import Principal
from personae.knowledge import entries
from personae.knowledge.models import Embedding
from personae.providers.embeddings import Embedders
from personae.settings import Settings
from tests.api.conftest import new_tenant

TOOLS = {
    "send_email": "Send an email message to a recipient with a subject and a body.",
    "get_weather": "Get the weather forecast for a city: temperature, rain and wind.",
    "refund_order": "Refund a customer's order, fully or partly, to the original payment.",
    "book_meeting": "Book a meeting room in the calendar for a time slot.",
}


async def test_tool_descriptions_are_found_by_their_words_and_kept_per_tenant(
    owner_engine: AsyncEngine,
    app_engine: AsyncEngine,
    app_sessions: async_sessionmaker[AsyncSession],
) -> None:
    a = (await new_tenant(owner_engine, app_engine, "Tools A", "a@tools.example.com")).tenant.id
    b = (await new_tenant(owner_engine, app_engine, "Tools B", "b@tools.example.com")).tenant.id
    embedders = Embedders(Settings(embedder="hashing"))
    ids = {name: uuid.uuid4() for name in TOOLS}
    async with tenant_session(app_sessions, a) as session:
        for name, description in TOOLS.items():
            await entries.put(
                session,
                Principal.system(a),
                embedders,
                "tool",
                ids[name],
                description,
                {"name": name},
            )

    for mode in ("hybrid", "vector", "text"):
        async with tenant_session(app_sessions, a) as session:
            found = await entries.find(
                session,
                Principal.system(a),
                embedders,
                "tool",
                "email a message to someone",
                mode=mode,
                k=2,
            )
        assert found[0].entity_id == ids["send_email"], mode
        assert found[0].metadata == {"name": "send_email"}
    async with tenant_session(app_sessions, b) as session:
        assert (
            await entries.find(session, Principal.system(b), embedders, "tool", "email a message")
            == []
        )
    async with tenant_session(app_sessions, a) as session:
        assert (
            await entries.find(session, Principal.system(a), embedders, "rule", "email a message")
            == []
        )

        await entries.put(  # a new description replaces the entry
            session,
            Principal.system(a),
            embedders,
            "tool",
            ids["send_email"],
            "Send a text message by SMS.",
        )
        count = (
            select(func.count())
            .select_from(Embedding)
            .where(Embedding.entity_id == ids["send_email"])
        )
        assert (await session.execute(count)).scalar_one() == 1
        await entries.remove(session, "tool", ids["refund_order"])
        found = await entries.find(
            session, Principal.system(a), embedders, "tool", "refund the order", mode="text"
        )
        assert ids["refund_order"] not in {hit.entity_id for hit in found}
