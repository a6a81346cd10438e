"""Moving a tenant to another embedding model: twins written in batches while search
keeps using the old vectors; curated summaries keep pointing at their (new) parts; prune
leaves only the new model."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from personae.db.engine import DatabaseUrls
from personae.db.tenancy import tenant_session
from personae.identity.principal import Principal
from personae.knowledge import migration
from personae.knowledge.models import Chunk
from personae.knowledge.search import Filters, Request, search
from personae.providers.embeddings import HashingEmbedder, label
from personae.providers.embeddings.openai_compat import OpenAIEmbedder
from tests.api.conftest import bearer, running_app, user_id
from tests.api.test_documents import SETTINGS, drain, upload
from tests.scripted_openai import Script, scripted_openai

OWNER = "owner@migration.example.com"


async def test_twins_are_written_while_search_goes_on_then_the_old_model_is_pruned(
    urls: DatabaseUrls, owner_password: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_app(urls, SETTINGS) as (app, client), scripted_openai(Script()) as base:
        auth = await bearer(client, OWNER, owner_password)
        await client.put("/v1/flags/curated_summaries", headers=auth, json={"enabled": True})
        place = {"name": "lighthouse", "entity_type": "place"}
        assert (await client.post("/v1/entities", headers=auth, json=place)).status_code == 201
        text = "\n\n".join(f"Lantern {i} burns whale oil in the lighthouse." for i in range(30))
        doc = await upload(client, auth, "lanterns.txt", text.encode())
        await drain(app)
        me = await client.get("/v1/me", headers=auth)
        tenant = me.json()["tenant_id"]
        assert await user_id(client, auth)
        sessions = app.state.sessions
        old, new = (
            HashingEmbedder(384),
            OpenAIEmbedder(
                base_url=base, api_key=None, model="scripted", dimensions=384, batch_size=16
            ),
        )
        principal = Principal.system(tenant)
        asked = Request(
            "whale oil lantern", mode="vector", k=5, filters=Filters(document_id=doc["id"])
        )

        async def found(embedder: HashingEmbedder | OpenAIEmbedder) -> list[str]:
            async with tenant_session(sessions, tenant) as session:
                return [h.text for h in await search(session, principal, embedder, asked)]

        before = await found(old)
        mentions_url = f"/v1/documents/{doc['id']}/entities"
        named = (await client.get(mentions_url, headers=auth)).json()
        assert named[0]["name"] == "lighthouse" and named[0]["mentions"] >= 30
        assert before and await found(new) == []  # no vectors of the new model yet

        progress: list[migration.Migrated] = []
        monkeypatch.setattr(migration, "BATCH", 2)  # several batches, each committed
        written = await migration.migrate(sessions, tenant, new, on_batch=progress.append)
        census = await migration.census(sessions, tenant)
        assert census[label(new)] == census[label(old)] == written
        assert len(progress) > 2 and progress[-1].left == 0
        assert await found(old) == before  # the old vectors still answer
        assert await found(new) == before  # the scripted model embeds as the old one does
        assert await migration.migrate(sessions, tenant, new) == 0  # nothing left to do

        async with tenant_session(sessions, tenant) as session:
            twins = (
                (await session.execute(select(Chunk).where(Chunk.embedding_model == label(new))))
                .scalars()
                .all()
            )
        by_id = {c.id: c for c in twins}
        curated = [c for c in twins if c.is_curated]
        assert curated and all(
            source in by_id and not by_id[source].is_curated
            for c in curated
            for source in c.source_chunk_ids or []
        )

        assert await migration.prune(sessions, tenant, label(new)) == written
        assert await migration.census(sessions, tenant) == {label(new): written}
        assert await found(old) == []
        # the twins carry the chunks' entity mentions
        assert (await client.get(mentions_url, headers=auth)).json() == named
        await new.close()
