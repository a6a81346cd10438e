"""Documents: upload → background ingestion → search, for every readable type; failures
that leave nothing half-written; new versions swapped in at once; organisation filters;
team access; search logs."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from personae.api import services
from personae.db.engine import DatabaseUrls
from personae.jobs import JobDeps
from personae.knowledge.models import Chunk, SearchQuery, SearchResult
from personae.settings import Settings
from personae.tasks import WorkerServices
from tests.api.conftest import bearer, join, running_app, user_id
from tests.pdfs import text_pdf
from tests.scripted_openai import Script, scripted_openai

OWNER = "owner@documents.example.com"
SETTINGS = Settings(
    connect_timeout_s=2, embedder="hashing", chunk_tokens=64, chunk_overlap_tokens=8
)

FILES: dict[str, tuple[bytes, str]] = {
    "notes.txt": (b"The lighthouse keeper logs every passing ship.\n\nTea at five.", "text/plain"),
    "guide.md": (
        b"# Garden guide\n\n## Tomatoes\n\nTomatoes want sun and deep watering.",
        "text/markdown",
    ),
    "page.html": (
        b"<html><body><h1>Volcanoes</h1><p>Basalt flows cool into columns.</p>"
        b"<script>ignore()</script></body></html>",
        "text/html",
    ),
    "report.pdf": (text_pdf(["Quarterly glacier survey.", "Meltwater rose by a third."]), ""),
}
FILES["report.pdf"] = (FILES["report.pdf"][0], "application/pdf")
QUERIES = {
    "notes.txt": "lighthouse keeper",
    "guide.md": "tomatoes watering",
    "page.html": "basalt columns",
    "report.pdf": "glacier meltwater",
}


async def drain(app: FastAPI, *, retries: int = 0) -> None:
    """Run the queued jobs (ingestion) until none is ready, as the worker would; then,
    `retries` times, wait for the retry scheduled next to be due and run again."""
    shared = services.of(app)
    assert shared is not None, "the app is not running"
    deps = JobDeps(shared.sessions, shared.settings, WorkerServices(shared.embedders, shared.vault))
    await shared.queue.run_until_idle(deps)
    for _ in range(retries):
        due = await shared.queue.next_due()
        assert due is not None, "no job waits for a retry"
        await asyncio.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()))
        await shared.queue.run_until_idle(deps)


async def upload(
    client: httpx.AsyncClient, auth: dict[str, str], name: str, content: bytes, **params: Any
) -> dict[str, Any]:
    response = await client.post(
        "/v1/documents", params={"filename": name, **params}, headers=auth, content=content
    )
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "processing"
    return dict(response.json())


async def search(
    client: httpx.AsyncClient, auth: dict[str, str], query: str, **options: Any
) -> list[dict[str, Any]]:
    response = await client.post("/v1/search", headers=auth, json={"query": query, **options})
    assert response.status_code == 200, response.text
    return list(response.json()["results"])


async def test_every_readable_type_is_ingested_and_found_in_every_mode(
    urls: DatabaseUrls, owner_password: str
) -> None:
    async with running_app(urls, SETTINGS) as (app, client):
        auth = await bearer(client, OWNER, owner_password)
        ids = {
            name: (await upload(client, auth, name, body))["id"]
            for name, (body, _) in FILES.items()
        }
        await drain(app)
        for name, (_, mime_type) in FILES.items():
            shown = (await client.get(f"/v1/documents/{ids[name]}", headers=auth)).json()
            assert (shown["status"], shown["mime_type"]) == ("completed", mime_type), shown
            chunks = (await client.get(f"/v1/documents/{ids[name]}/chunks", headers=auth)).json()
            assert chunks and all(c["text"] for c in chunks)
            for mode in ("hybrid", "vector", "text"):
                found = await search(client, auth, QUERIES[name], mode=mode, k=3)
                assert found[0]["document_id"] == ids[name], (name, mode, found)
                assert found[0]["document_name"] == name
        hybrid = await search(client, auth, "glacier meltwater", k=1)
        assert hybrid[0]["vector_rank"] == 1 and hybrid[0]["text_rank"] == 1
        assert "<mark>" in hybrid[0]["highlight"]
        models = (await client.get("/v1/embedding-models", headers=auth)).json()
        assert [(m["provider"], m["is_lexical"]) for m in models] == [("hashing", True)]


async def test_unreadable_files_fail_clearly_and_leave_nothing_half_written(
    urls: DatabaseUrls, owner_password: str, owner_engine: AsyncEngine
) -> None:
    async with running_app(urls, SETTINGS) as (app, client):
        auth = await bearer(client, OWNER, owner_password)
        before = (await client.get("/v1/documents", headers=auth)).json()["items"]
        png = await client.post(
            "/v1/documents",
            params={"filename": "photo.md"},
            headers=auth,
            content=b"\x89PNG\r\n\x1a\n" + b"\0" * 100,
        )
        assert png.status_code == 415, png.text
        assert png.headers["content-type"] == "application/problem+json"
        assert "image/png" in png.json()["detail"]
        assert (await client.get("/v1/documents", headers=auth)).json()["items"] == before

        broken = await upload(client, auth, "broken.pdf", b"%PDF-1.7\n" + b"\x00junk" * 100)
        await drain(app)
        shown = (await client.get(f"/v1/documents/{broken['id']}", headers=auth)).json()
        assert shown["status"] == "failed"
        assert "PDF can't be read" in shown["error_message"]
        async with owner_engine.connect() as conn:
            count = await conn.execute(
                select(func.count()).select_from(Chunk).where(Chunk.document_id == broken["id"])
            )
            assert count.scalar_one() == 0

        empty = await client.post(
            "/v1/documents", params={"filename": "x.txt"}, headers=auth, content=b""
        )
        assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "body"


async def test_a_new_version_replaces_the_old_chunks_in_one_swap(
    urls: DatabaseUrls, owner_password: str
) -> None:
    async with running_app(urls, SETTINGS) as (app, client):
        auth = await bearer(client, OWNER, owner_password)
        doc = await upload(client, auth, "policy.txt", b"Refunds take thirty days.")
        await drain(app)
        replaced = await client.put(
            f"/v1/documents/{doc['id']}/content",
            params={"filename": "policy.txt", "change_note": "faster"},
            headers=auth,
            content=b"Refunds now take seven days, by pelican courier.",
        )
        assert replaced.status_code == 202, replaced.text
        assert replaced.json()["current_version"] == 2
        # until the new version is ingested, search keeps finding the old one
        assert (await search(client, auth, "refunds thirty", mode="text"))[0]["document_id"] == doc[
            "id"
        ]
        await drain(app)
        assert await search(client, auth, "thirty", mode="text") == []
        found = await search(client, auth, "pelican courier", mode="text")
        assert [hit["document_id"] for hit in found] == [doc["id"]]
        versions = (await client.get(f"/v1/documents/{doc['id']}/versions", headers=auth)).json()
        assert [(v["version"], v["change_note"]) for v in versions] == [(1, None), (2, "faster")]


async def test_search_filters_by_tags_category_subtree_collection_and_persona(
    urls: DatabaseUrls, owner_password: str
) -> None:
    async with running_app(urls, SETTINGS) as (app, client):
        auth = await bearer(client, OWNER, owner_password)
        persona = await client.post("/v1/personas", headers=auth, json={"name": "Archivist"})
        assert persona.status_code == 201, persona.text
        a = await upload(client, auth, "a.txt", b"Shared topic: owls hunting at dusk.")
        b = await upload(
            client,
            auth,
            "b.txt",
            b"Shared topic: owls nesting in barns.",
            persona_id=persona.json()["id"],
        )
        await drain(app)

        async def post(path: str, body: dict[str, Any]) -> str:
            made = await client.post(path, headers=auth, json=body)
            assert made.status_code == 201, made.text
            return str(made.json()["id"])

        birds = await post("/v1/document-categories", {"name": "Birds"})
        owls = await post("/v1/document-categories", {"name": "Owls", "parent_id": birds})
        filed = await client.put(
            f"/v1/documents/{b['id']}/categories", headers=auth, json={"category_ids": [owls]}
        )
        assert filed.status_code == 200, filed.text
        tagged = await client.put(
            f"/v1/documents/{a['id']}/tags", headers=auth, json={"tags": ["field-notes"]}
        )
        assert tagged.json() == {"tags": ["field-notes"]}
        shelf = await post("/v1/collections", {"name": "Shelf"})
        await post(f"/v1/collections/{shelf}/items", {"document_id": a["id"]})

        async def only(**filters: Any) -> set[str]:
            found = await search(client, auth, "owls", mode="text", **filters)
            hybrid = await search(client, auth, "owls", **filters)
            assert {h["document_id"] for h in found} <= {h["document_id"] for h in hybrid}
            return {h["document_id"] for h in found}

        assert await only() == {a["id"], b["id"]}
        assert await only(tags=["field-notes"]) == {a["id"]}
        assert await only(category_id=birds) == {b["id"]}  # the subtree
        assert await only(collection_id=shelf) == {a["id"]}
        assert await only(persona_id=persona.json()["id"]) == {b["id"]}
        assert await only(document_id=a["id"]) == {a["id"]}
        assert await only(created_before="2000-01-01T00:00:00Z") == set()
        loop = await client.patch(
            f"/v1/document-categories/{birds}", headers=auth, json={"parent_id": owls}
        )
        assert loop.status_code == 422 and loop.json()["errors"][0]["field"] == "parent_id"


async def test_a_team_shared_document_is_for_its_teams_only(
    urls: DatabaseUrls, owner_password: str
) -> None:
    async with running_app(urls, SETTINGS) as (app, client):
        owner = await bearer(client, OWNER, owner_password)
        insider = await join(client, owner, "insider@documents.example.com", "member")
        outsider = await join(client, owner, "outsider@documents.example.com", "member")
        team = await client.post("/v1/teams", headers=owner, json={"name": "Legal"})
        added = await client.post(
            f"/v1/teams/{team.json()['id']}/members",
            headers=owner,
            json={"user_id": await user_id(client, insider)},
        )
        assert added.status_code == 201, added.text
        secret = await upload(client, owner, "merger.txt", b"Confidential merger with Zebracorp.")
        shared = await client.put(
            f"/v1/documents/{secret['id']}/teams",
            headers=owner,
            json={"teams": [{"team_id": team.json()["id"], "permission": "read"}]},
        )
        assert shared.status_code == 200, shared.text
        await drain(app)

        found = await search(client, insider, "Zebracorp", mode="text")
        assert [h["document_id"] for h in found] == [secret["id"]]
        assert await search(client, outsider, "Zebracorp", mode="text") == []
        nearest = await search(client, outsider, "Confidential merger with Zebracorp.")
        assert secret["id"] not in {h["document_id"] for h in nearest}
        assert (
            await client.get(f"/v1/documents/{secret['id']}", headers=outsider)
        ).status_code == 404
        listed = (await client.get("/v1/documents", headers=outsider)).json()["items"]
        assert secret["id"] not in {d["id"] for d in listed}
        renamed = await client.patch(
            f"/v1/documents/{secret['id']}", headers=insider, json={"name": "x.txt"}
        )
        assert renamed.status_code == 403  # a read grant is not a write grant


async def test_searches_are_logged_when_the_tenant_asks_and_bad_requests_are_422(
    urls: DatabaseUrls, owner_password: str, owner_engine: AsyncEngine
) -> None:
    async with running_app(urls, SETTINGS) as (app, client):
        auth = await bearer(client, OWNER, owner_password)
        await upload(client, auth, "log.txt", b"Kestrels hover over motorways.")
        await drain(app)
        await search(client, auth, "kestrels")
        async with owner_engine.connect() as conn:
            assert (await conn.execute(select(func.count()).select_from(SearchQuery))).scalar() == 0
        flag = await client.put("/v1/flags/search_logging", headers=auth, json={"enabled": True})
        assert flag.status_code == 200, flag.text
        hits = await search(client, auth, "kestrels hover", k=5)
        async with owner_engine.connect() as conn:
            logged = (await conn.execute(select(SearchQuery))).mappings().one()
            assert (logged["query_text"], logged["mode"], logged["top_k"]) == (
                "kestrels hover",
                "hybrid",
                5,
            )
            results = (
                (await conn.execute(select(SearchResult.chunk_id).order_by(SearchResult.rank)))
                .scalars()
                .all()
            )
            assert [str(r) for r in results] == [h["chunk_id"] for h in hits]

        for body, field in (
            ({"query": ""}, "query"),
            ({"query": "x", "mode": "fuzzy"}, "mode"),
            ({"query": "x", "k": 101}, "k"),
            ({"query": "x", "collection_id": "not-a-uuid"}, "collection_id"),
        ):
            refused = await client.post("/v1/search", headers=auth, json=body)
            assert refused.status_code == 422, (body, refused.text)
            assert refused.json()["errors"][0]["field"] == field, refused.text
        unknown = await client.post(
            "/v1/search", headers=auth, json={"query": "x", "collection_id": str(uuid.uuid4())}
        )
        assert unknown.status_code == 200 and unknown.json()["results"] == []
        gone = await client.delete(f"/v1/documents/{hits[0]['document_id']}", headers=auth)
        assert gone.status_code == 204
        assert await search(client, auth, "kestrels", mode="text") == []
        async with owner_engine.connect() as conn:
            left = await conn.execute(
                text("SELECT count(*) FROM chunks WHERE document_id = :d"),
                {"d": hits[0]["document_id"]},
            )
            assert left.scalar_one() == 0


async def test_the_curator_writes_summaries_that_retrieval_can_prefer(
    urls: DatabaseUrls, owner_password: str
) -> None:
    async with running_app(urls, SETTINGS) as (app, client):
        auth = await bearer(client, OWNER, owner_password)
        flag = await client.put("/v1/flags/curated_summaries", headers=auth, json={"enabled": True})
        assert flag.status_code == 200, flag.text
        paragraphs = [
            f"Beekeeping note {i}: the hive needs smoke, patience and a calm keeper. "
            f"Day {i} was warm."
            for i in range(20)
        ]
        doc = await upload(client, auth, "bees.txt", "\n\n".join(paragraphs).encode())
        await drain(app)  # ingestion, then the curation it queues
        chunks = (await client.get(f"/v1/documents/{doc['id']}/chunks", headers=auth)).json()
        parts = [c for c in chunks if not c["is_curated"]]
        digests = [c for c in chunks if c["is_curated"]]
        assert len(parts) > 8 and digests
        assert {s for d in digests for s in d["source_chunk_ids"]} == {c["id"] for c in parts}
        assert all("hive needs smoke" in d["text"] for d in digests)
        assert {d["metadata"]["curated"] for d in digests} == {"extractive"}  # no utility model
        boosted = await search(
            client,
            auth,
            "hive smoke calm keeper",
            mode="text",
            curated_boost=5.0,
            k=3,
            document_id=doc["id"],
        )
        assert boosted[0]["is_curated"] is True


async def with_utility_model(
    client: httpx.AsyncClient, auth: dict[str, str], base: str, **config: Any
) -> None:
    """Curated summaries on, through a utility model config at `base`."""
    await client.put("/v1/flags/curated_summaries", headers=auth, json={"enabled": True})
    body = {"model_type": "utility", "provider": "openai", "base_url": base}
    made = await client.post("/v1/model-configs", headers=auth, json={**body, **config})
    assert made.status_code == 201, made.text


async def test_the_curator_writes_through_the_tenants_utility_model(
    urls: DatabaseUrls, owner_password: str
) -> None:
    script = Script(
        replies=["Bees need smoke and calm.", "Bees need patience."],
        chat_failures=[503] * 3,  # the SDK's own two retries fail too
    )
    settings = SETTINGS.model_copy(
        update={"job_retry_wait_s": 1, "job_retry_backoff": 0, "job_max_attempts": 3}
    )
    async with scripted_openai(script) as base, running_app(urls, settings) as (app, client):
        auth = await bearer(client, OWNER, owner_password)
        await with_utility_model(
            client,
            auth,
            base,
            name="summariser",
            model_name="scripted-small",
            api_key="sk-scripted-secret",
            kwargs={"temperature": 0.1},
        )
        text = "\n\n".join(f"Hive {i} wants smoke and a calm keeper." for i in range(60))
        doc = await upload(client, auth, "hives.txt", text.encode())
        await drain(app)  # ingested; the curator's first call gets 503: retried later
        chunks = (await client.get(f"/v1/documents/{doc['id']}/chunks", headers=auth)).json()
        assert not [c for c in chunks if c["is_curated"]]
        await drain(app, retries=1)

        chunks = (await client.get(f"/v1/documents/{doc['id']}/chunks", headers=auth)).json()
        digests = [c for c in chunks if c["is_curated"]]
        assert [d["text"] for d in digests] == ["Bees need smoke and calm.", "Bees need patience."]
        assert all(
            d["metadata"]["curated"] == "llm"
            and d["metadata"]["model"] == "scripted-small"
            and d["metadata"]["output_tokens"] > 0
            for d in digests
        )
        asked = script.chat_requests[-1]
        assert asked["model"] == "scripted-small" and asked["temperature"] == 0.1
        assert "Hive" in asked["messages"][1]["content"]
        # the key came from the vault; it is never written anywhere readable
        audit = (await client.get("/v1/audit", headers=auth)).text
        assert "sk-scripted-secret" not in audit
        found = await search(client, auth, "bees patience", mode="text", k=1)
        assert found[0]["is_curated"] is True


async def test_a_utility_model_that_answers_wrongly_leaves_extractive_summaries(
    urls: DatabaseUrls, owner_password: str
) -> None:
    script = Script(chat_failures=[400] * 10)
    async with scripted_openai(script) as base, running_app(urls, SETTINGS) as (app, client):
        auth = await bearer(client, OWNER, owner_password)
        await with_utility_model(client, auth, base, name="broken", model_name="refuses")
        text = "\n\n".join(f"Hive {i} wants smoke and a calm keeper." for i in range(20))
        doc = await upload(client, auth, "hives.txt", text.encode())
        await drain(app)
        chunks = (await client.get(f"/v1/documents/{doc['id']}/chunks", headers=auth)).json()
        digests = [c for c in chunks if c["is_curated"]]
        assert digests and {d["metadata"]["curated"] for d in digests} == {"extractive"}
        assert script.chat_requests  # it was asked
