"""Ingestion through an OpenAI-compatible embedding endpoint that fails: the job retries
with backoff, the document finishes when the endpoint is back, and no chunk is ever
stored without its text, or lost; a provider that stays down fails the document."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from personae.db.engine import DatabaseUrls
from personae.knowledge.models import Chunk
from personae.settings import Settings
from tests.api.conftest import bearer, running_app
from tests.api.test_documents import drain, search, upload
from tests.scripted_openai import Script, scripted_openai

OWNER = "owner@outages.example.com"
TEXT = "\n\n".join(f"Paragraph {i} is about the harbour crane number {i}." for i in range(12))


def settings(base_url: str, attempts: int) -> Settings:
    return Settings(
        connect_timeout_s=2,
        embedder="openai",
        embedding_base_url=base_url,
        embedding_model="scripted-embedder",
        embedding_batch_size=4,  # three calls per document: an outage can strike mid-way
        embedding_max_retries=0,
        chunk_tokens=16,
        chunk_overlap_tokens=0,
        job_max_attempts=attempts,
        job_retry_wait_s=1,
        job_retry_backoff=0,
    )


async def chunks_of(owner_engine: AsyncEngine, document_id: str) -> list[str]:
    async with owner_engine.connect() as conn:
        found = await conn.execute(
            select(Chunk.text).where(Chunk.document_id == document_id).order_by(Chunk.chunk_index)
        )
        return list(found.scalars())


async def test_a_document_finishes_when_the_provider_comes_back(
    urls: DatabaseUrls, owner_password: str, owner_engine: AsyncEngine
) -> None:
    script = Script(failures=[503])
    async with (
        scripted_openai(script) as base_url,
        running_app(urls, settings(base_url, attempts=10)) as (app, client),
    ):
        auth = await bearer(client, OWNER, owner_password)
        doc = await upload(client, auth, "cranes.txt", TEXT.encode())
        await drain(app)  # the first call fails: retried a second later
        script.down = True
        await drain(app, retries=1)  # the provider is down for the retry too
        shown = (await client.get(f"/v1/documents/{doc['id']}", headers=auth)).json()
        assert shown["status"] == "processing"
        assert await chunks_of(owner_engine, doc["id"]) == []  # nothing half-written

        script.down = False
        script.failures = [None, None, 500]  # two batches succeed, the third fails
        await drain(app, retries=1)
        assert (await client.get(f"/v1/documents/{doc['id']}", headers=auth)).json()[
            "status"
        ] == "processing"
        assert await chunks_of(owner_engine, doc["id"]) == []
        await drain(app, retries=1)

        shown = (await client.get(f"/v1/documents/{doc['id']}", headers=auth)).json()
        assert shown["status"] == "completed", shown
        stored = await chunks_of(owner_engine, doc["id"])
        assert all(stored) and " ".join(stored).count("harbour crane") == 12
        found = await search(client, auth, "harbour crane number 7", mode="text", k=1)
        assert "number 7." in found[0]["text"]
        assert {r["model"] for r in script.requests} == {"scripted-embedder"}


async def test_a_provider_that_stays_down_fails_the_document_after_its_attempts(
    urls: DatabaseUrls, owner_password: str, owner_engine: AsyncEngine
) -> None:
    script = Script(down=True)
    async with (
        scripted_openai(script) as base_url,
        running_app(urls, settings(base_url, attempts=2)) as (app, client),
    ):
        auth = await bearer(client, OWNER, owner_password)
        doc = await upload(client, auth, "down.txt", TEXT.encode())
        await drain(app, retries=1)
        shown = (await client.get(f"/v1/documents/{doc['id']}", headers=auth)).json()
        assert shown["status"] == "failed"
        assert "503" in shown["error_message"] and "gave up" in shown["error_message"]
        assert len(script.requests) == 2
        assert await chunks_of(owner_engine, doc["id"]) == []
