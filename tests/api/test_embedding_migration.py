"""Moving a tenant to another embedding model: twins written in committed batches while
search keeps using the old vectors; rows written meanwhile are caught up under the model
lock; the tenant then searches and ingests with the new model; curated summaries keep
pointing at their (new) parts, mentions follow the chunks, entries move too; prune leaves
only the new model."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from personae.behavior import matching
from personae.db.engine import DatabaseUrls
from personae.db.tenancy import tenant_session
from personae.kernel.principal import Principal
from personae.knowledge import entries, migration
from personae.knowledge.models import Chunk
from personae.settings import Settings
from tests.api.conftest import bearer, join, running_app
from tests.api.test_documents import drain, search, upload
from tests.scripted_openai import Script, scripted_openai

OWNER = "owner@migration.example.com"
OLD, NEW = "hashing/ngrams-384", "openai/scripted"


async def test_a_tenant_moves_to_another_model_without_a_gap_in_search(
    urls: DatabaseUrls, owner_password: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with scripted_openai(Script()) as base:
        settings = Settings(
            connect_timeout_s=2,
            embedder="hashing",
            chunk_tokens=64,
            chunk_overlap_tokens=8,
            embedding_base_url=base,
            embedding_model="scripted",
        )
        async with running_app(urls, settings) as (app, client):
            auth = await bearer(client, OWNER, owner_password)
            tenant = (await client.get("/v1/me", headers=auth)).json()["tenant_id"]
            system = Principal.system(tenant)
            sessions, embedders = app.state.services.sessions, app.state.services.embedders
            await client.put("/v1/flags/curated_summaries", headers=auth, json={"enabled": True})
            place = {"name": "lighthouse", "entity_type": "place"}
            assert (await client.post("/v1/entities", headers=auth, json=place)).status_code == 201
            text = "\n\n".join(f"Lantern {i} burns whale oil in the lighthouse." for i in range(30))
            doc = await upload(client, auth, "lanterns.txt", text.encode())
            await drain(app)
            async with tenant_session(sessions, tenant) as session:
                await entries.put(
                    session, system, embedders, "tool", doc["id"], "Trim the lantern wicks."
                )

            state = (await client.get("/v1/embeddings", headers=auth)).json()
            assert state["model"] == OLD and NEW in state["available"]
            chunks = state["rows"][OLD] - 1  # one entry
            query: dict[str, Any] = {"mode": "vector", "k": 5, "document_id": doc["id"]}
            before = await search(client, auth, "whale oil lantern", **query)
            mentions_url = f"/v1/documents/{doc['id']}/entities"
            named = (await client.get(mentions_url, headers=auth)).json()
            assert named[0]["name"] == "lighthouse" and named[0]["mentions"] >= 30

            # the first phase, in committed batches; search goes on with the old vectors
            progress: list[migration.Migrated] = []
            monkeypatch.setattr(migration, "BATCH", 2)
            target = embedders.get("openai")
            written = await migration.migrate(sessions, tenant, target, on_batch=progress.append)
            assert written == chunks + 1 and len(progress) > 2 and progress[-1].left == 0
            assert await search(client, auth, "whale oil lantern", **query) == before
            # a document ingested meanwhile gets only the old model's vectors...
            late = await upload(client, auth, "late.txt", b"The lighthouse keeper came late.")
            await drain(app)
            state = (await client.get("/v1/embeddings", headers=auth)).json()
            assert state["model"] == OLD and state["rows"][NEW] == written

            # ...which the switch (queued through the API) catches up before it switches
            member = await join(client, auth, "member@migration.example.com", "member")
            refused = await client.post("/v1/embeddings/switch", headers=member, json={"to": "x"})
            assert refused.status_code == 403
            unknown = await client.post("/v1/embeddings/switch", headers=auth, json={"to": "x"})
            assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "to"
            asked = await client.post("/v1/embeddings/switch", headers=auth, json={"to": "openai"})
            assert asked.status_code == 202, asked.text
            assert asked.json()["switching_to"] == NEW and asked.json()["model"] == OLD
            await drain(app)
            state = (await client.get("/v1/embeddings", headers=auth)).json()
            assert state["model"] == NEW
            assert state["rows"][NEW] == state["rows"][OLD] > written

            response = await client.post(
                "/v1/search", headers=auth, json={"query": "whale oil lantern", **query}
            )
            assert response.json()["model"] == NEW
            # the scripted model embeds as the old one does: the same answers
            assert [h["text"] for h in response.json()["results"]] == [h["text"] for h in before]
            found = await search(client, auth, "keeper came late", mode="vector", k=1)
            assert found[0]["document_id"] == late["id"]
            async with tenant_session(sessions, tenant) as session:
                tools = await entries.find(session, system, embedders, "tool", "lantern wicks")
                twins = (
                    (await session.execute(select(Chunk).where(Chunk.embedding_model == NEW)))
                    .scalars()
                    .all()
                )
            assert [t.content for t in tools] == ["Trim the lantern wicks."]
            by_id = {c.id: c for c in twins}
            curated = [c for c in twins if c.is_curated]
            assert curated and all(
                source in by_id and not by_id[source].is_curated
                for c in curated
                for source in c.source_chunk_ids or []
            )

            # new rows use the new model alone; prune leaves only it
            await upload(client, auth, "new.txt", b"Fresh wicks arrived.")
            await drain(app)
            pruned = await client.post("/v1/embeddings/prune", headers=auth)
            assert pruned.status_code == 200, pruned.text
            assert pruned.json()["kept"] == NEW and pruned.json()["removed"] > written
            state = (await client.get("/v1/embeddings", headers=auth)).json()
            assert list(state["rows"]) == [NEW]
            assert [
                h["text"] for h in await search(client, auth, "whale oil lantern", **query)
            ] == [h["text"] for h in before]
            # the twins carry the chunks' entity mentions
            assert (await client.get(mentions_url, headers=auth)).json() == named


@asynccontextmanager
async def _switchable_app(urls: DatabaseUrls) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    """The app on the hashing embedder, the scripted server's as `openai` to switch to."""
    async with scripted_openai(Script()) as base:
        settings = Settings(
            connect_timeout_s=2,
            embedder="hashing",
            embedding_base_url=base,
            embedding_model="scripted",
        )
        async with running_app(urls, settings) as (app, client):
            yield app, client


async def test_memory_follows_the_tenant_to_its_new_model(
    urls: DatabaseUrls, fresh_owner: tuple[str, str], owner_engine: AsyncEngine
) -> None:
    async with _switchable_app(urls) as (app, client):
        auth = await bearer(client, *fresh_owner)
        note = {"content": "The ferry to Skye leaves at noon.", "episode_type": "NOTE"}
        made = await client.post("/v1/memory/episodes", headers=auth, json=note)
        assert made.status_code == 201, made.text
        triple = {"triples": [["Ferry", "sails_to", "Skye"]]}
        assert (await client.post("/v1/memory/facts", headers=auth, json=triple)).is_success
        await drain(app)
        asked = await client.post("/v1/embeddings/switch", headers=auth, json={"to": "openai"})
        assert asked.status_code == 202, asked.text
        await drain(app)

        async with owner_engine.connect() as conn:
            models = await conn.execute(
                text(
                    "SELECT 'episode', embedding_model, embedding_status FROM episodes "
                    "WHERE id = :id UNION ALL SELECT 'entity', embedding_model, "
                    "CAST(name_embedding IS NOT NULL AS text) FROM entities "
                    "WHERE tenant_id = :tenant UNION ALL SELECT 'fact', embedding_model, "
                    "CAST(fact_embedding IS NOT NULL AS text) FROM relationships "
                    "WHERE tenant_id = :tenant"
                ),
                {
                    "id": made.json()["id"],
                    "tenant": (await client.get("/v1/me", headers=auth)).json()["tenant_id"],
                },
            )
            found = sorted(tuple(row) for row in models)
        assert found == [
            ("entity", NEW, "true"),
            ("entity", NEW, "true"),
            ("episode", NEW, "embedded"),
            ("fact", NEW, "true"),
        ]
        recalled = await client.post(
            "/v1/memory/search",
            headers=auth,
            json={"query": "ferry to Skye", "mode": "vector", "k": 1, "facts": 1},
        )
        assert recalled.json()["episodes"][0]["id"] == made.json()["id"]
        assert recalled.json()["facts"][0]["relation"] == "sails_to"


async def test_rules_and_scenarios_follow_the_tenant_to_its_new_model(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    async with _switchable_app(urls) as (app, client):
        auth = await bearer(client, *fresh_owner)
        tenant = (await client.get("/v1/me", headers=auth)).json()["tenant_id"]
        sessions, embedders = app.state.services.sessions, app.state.services.embedders
        agent = (await client.post("/v1/agents", headers=auth, json={"name": "a"})).json()
        rule = {
            "name": "stolen",
            "condition_text": "the customer says their card was stolen",
            "examples": ["my card was stolen"],
        }
        made = await client.post(f"/v1/agents/{agent['id']}/rules", headers=auth, json=rule)
        assert made.status_code == 201, made.text
        scenario = {
            "name": "stolen-card",
            "entry_condition": "the customer says their card was stolen",
            "steps": [
                {"name": "freeze", "transitions": [{"to": "done", "condition": "frozen"}]},
                {"name": "done", "terminal": True},
            ],
        }
        path = f"/v1/agents/{agent['id']}/scenarios"
        made = await client.post(path, headers=auth, json=scenario)
        assert made.status_code == 201, made.text
        asked = await client.post("/v1/embeddings/switch", headers=auth, json={"to": "openai"})
        assert asked.status_code == 202, asked.text
        await drain(app)
        target = embedders.get("openai")
        [vector] = await target.embed(["my card was stolen"])
        async with tenant_session(sessions, tenant) as session:
            models = await session.execute(
                text("SELECT DISTINCT embedding_model FROM rule_phrasings")
            )
            assert list(models.scalars()) == [NEW]  # the old model's are gone
            found = await matching.candidates(
                session, agent["id"], "my card was stolen", vector, NEW
            )
            condition = await session.execute(text("SELECT embedding_model FROM rules"))
            scenario_models = await session.execute(
                text(
                    "SELECT kind, embedding_model FROM scenario_phrasings UNION ALL "
                    "SELECT 'SCENARIO', embedding_model FROM scenarios ORDER BY 1"
                )
            )
        assert [m.name for m in found] == ["stolen"] and found[0].best > 0.99
        assert list(condition.scalars()) == [NEW]
        assert [tuple(r) for r in scenario_models] == [
            ("ENTRY", NEW),
            ("SCENARIO", NEW),
            ("TRANSITION", NEW),
        ]
