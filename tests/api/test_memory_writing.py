"""The memory write path: messages become TURN episodes in the background, exactly once,
through an outage of the embedding provider and a worker killed in the middle of a batch."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import uuid
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from personae.api import services
from personae.db.engine import DatabaseUrls
from personae.memory.writing import remember
from personae.settings import Settings
from personae.vault.crypto import encode_key
from tests.api.conftest import MASTER_KEY, bearer, running_app
from tests.api.test_documents import drain
from tests.scripted_openai import Script, scripted_openai
from tests.serving import PERSONAE, clean_env
from tests.waiting import eventually

OWNER = "owner@memory-writing.example.com"
SETTINGS = Settings(connect_timeout_s=2, embedder="hashing")

EPISODES = text(
    "SELECT e.content, e.episode_type, e.embedding_status, e.embedding IS NOT NULL AS has_vector,"
    " e.source_event_ids, e.persona_id, e.session_id, e.occurred_at FROM episodes AS e "
    "WHERE e.session_id = :session AND e.episode_type = 'TURN' ORDER BY e.source_event_ids[1]"
)


def scripted(base: str, **settings: Any) -> Settings:
    """The app embedding through the scripted OpenAI-compatible server at `base`."""
    return Settings(
        connect_timeout_s=2,
        embedder="openai",
        embedding_base_url=base,
        embedding_model="scripted-embedder",
        **settings,
    )


async def episodes(owner_engine: AsyncEngine, session_id: str) -> list[dict[str, Any]]:
    async with owner_engine.connect() as conn:
        found = await conn.execute(EPISODES, {"session": session_id})
        return [dict(row) for row in found.mappings()]


def shown(found: dict[str, Any]) -> str:
    """The texts a memory search's results show (not their ids and times: any digits may
    turn up in those)."""
    texts = [e[k] for e in found["episodes"] for k in ("content", "highlight")]
    texts += [f[k] for f in found["facts"] for k in ("fact", "subject", "object")]
    return " ".join(t for t in texts if t)


async def say(
    client: httpx.AsyncClient, auth: dict[str, str], session_id: str, *lines: tuple[str, str]
) -> list[dict[str, Any]]:
    """Append one message event per (event type suffix, text); returns the stored events."""
    events = [
        {"event_type": f"message.{kind}", "payload": {"content": content}}
        for kind, content in lines
    ]
    response = await client.post(
        f"/v1/sessions/{session_id}/events", headers=auth, json={"events": events}
    )
    assert response.status_code == 201, response.text
    stored: list[dict[str, Any]] = response.json()["events"]
    return stored


async def test_messages_become_turn_episodes_once_each(
    urls: DatabaseUrls, owner_password: str, owner_engine: AsyncEngine
) -> None:
    async with running_app(urls, SETTINGS) as (app, client):
        auth = await bearer(client, OWNER, owner_password)
        persona = await client.post("/v1/personas", headers=auth, json={"name": "Scribe"})
        assert persona.status_code == 201, persona.text
        made = await client.post(
            "/v1/sessions", headers=auth, json={"persona_id": persona.json()["id"]}
        )
        sid = made.json()["id"]
        first = await say(
            client, auth, sid, ("user", "I moved to Lisbon"), ("assistant", "Welcome to Lisbon!")
        )
        note = await client.post(
            f"/v1/sessions/{sid}/events",
            headers=auth,
            json={"events": [{"event_type": "note", "payload": {"text": "not a message"}}]},
        )
        assert note.status_code == 201
        assert await episodes(owner_engine, sid) == []  # the turn did not wait for memory
        await drain(app)
        stored = await episodes(owner_engine, sid)
        assert [e["content"] for e in stored] == [
            "user: I moved to Lisbon",
            "assistant: Welcome to Lisbon!",
        ]
        assert all(e["episode_type"] == "TURN" and e["has_vector"] for e in stored)
        assert [e["source_event_ids"] for e in stored] == [[e["id"]] for e in first]
        assert {str(e["persona_id"]) for e in stored} == {persona.json()["id"]}

        await say(client, auth, sid, ("user", "The tram is yellow"))
        await say(client, auth, sid, ("user", "And the river is wide"))
        await drain(app)
        again = await episodes(owner_engine, sid)
        assert len(again) == 4
        # A job that runs again (a replayed outbox entry) writes nothing twice.
        async with owner_engine.connect() as conn:
            tenant = await conn.scalar(
                text("SELECT tenant_id FROM sessions WHERE id = :s"), {"s": sid}
            )
        written = await remember(
            app.state.services.sessions,
            app.state.services.embedders,
            tenant,
            uuid.UUID(sid),
            batch_size=8,
            retry_s=0,
            summary_window=20,
        )
        assert written == 0 and len(await episodes(owner_engine, sid)) == 4


async def test_an_embedding_outage_stores_episodes_and_fills_them_later(
    urls: DatabaseUrls, owner_password: str, owner_engine: AsyncEngine
) -> None:
    script = Script(down=True)
    async with scripted_openai(script) as base:
        settings = scripted(
            base,
            embedding_max_retries=0,
            memory_retry_s=1,
            job_max_attempts=2,
            job_retry_wait_s=1,
            job_retry_backoff=0,
        )
        async with running_app(urls, settings) as (app, client):
            auth = await bearer(client, OWNER, owner_password)
            sid = (await client.post("/v1/sessions", headers=auth, json={})).json()["id"]
            await say(client, auth, sid, ("user", "My sister is called Ana"))
            await drain(app)
            stored = await episodes(owner_engine, sid)
            assert [(e["content"], e["embedding_status"], e["has_vector"]) for e in stored] == [
                ("user: My sister is called Ana", "failed", False)
            ]
            script.down = False
            await drain(app, retries=1)  # the retry was queued for a second later
            stored = await episodes(owner_engine, sid)
            assert [(e["embedding_status"], e["has_vector"]) for e in stored] == [
                ("embedded", True)
            ]


async def stalled_jobs_recovered(app: FastAPI, timeout_s: float = 10.0) -> int:
    """Wait until some job's worker stops sending heartbeats; how many jobs were requeued."""
    shared = services.of(app)
    assert shared is not None
    return await eventually(shared.queue.recover_stalled, within_s=timeout_s, every_s=0.1)


async def test_a_worker_killed_mid_batch_loses_and_repeats_nothing(
    urls: DatabaseUrls, owner_password: str, owner_engine: AsyncEngine
) -> None:
    script = Script(delay_s=0.3)  # each batch of two waits for its vectors
    async with scripted_openai(script) as base:
        settings = scripted(
            base,
            memory_batch_size=2,
            worker_heartbeat_s=0.5,
            worker_stalled_after_s=2,
        )
        async with running_app(urls, settings) as (app, client):
            auth = await bearer(client, OWNER, owner_password)
            sid = (await client.post("/v1/sessions", headers=auth, json={})).json()["id"]
            lines = [("user", f"Line {i} about the orchard") for i in range(30)]
            sent = await say(client, auth, sid, *lines)
            env = {
                "PERSONAE_DATABASE_URL": urls.owner,
                "PERSONAE_APP_DATABASE_URL": urls.app,
                "PERSONAE_MASTER_KEY": encode_key(MASTER_KEY),
                "PERSONAE_EMBEDDER": "openai",
                "PERSONAE_EMBEDDING_BASE_URL": base,
                "PERSONAE_EMBEDDING_MODEL": "scripted-embedder",
                "PERSONAE_MEMORY_BATCH_SIZE": "2",
                "PERSONAE_WORKER_HEARTBEAT_S": "0.5",
                "PERSONAE_LOG_LEVEL": "warning",
            }
            worker = await asyncio.create_subprocess_exec(
                *PERSONAE,
                "worker",
                env=clean_env(**env),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:

                async def some_batches_in() -> bool:  # not all
                    return len(await episodes(owner_engine, sid)) >= 4

                await eventually(some_batches_in, within_s=15)
                worker.send_signal(signal.SIGKILL)
            finally:
                if worker.returncode is None:
                    worker.kill()
                await worker.wait()
            partial = len(await episodes(owner_engine, sid))
            assert 4 <= partial < len(lines), "the worker was not stopped mid-way"
            assert await stalled_jobs_recovered(app) >= 1  # once its heartbeat is stale
            await drain(app)  # another worker takes the stalled job up again
            stored = await episodes(owner_engine, sid)
            assert [e["source_event_ids"] for e in stored] == [[e["id"]] for e in sent]
            assert [e["content"] for e in stored] == [f"user: {text}" for _, text in lines]
            assert all(e["has_vector"] for e in stored)


async def test_episodes_written_directly_are_stored_at_once_and_embedded_later(
    urls: DatabaseUrls, owner_password: str
) -> None:
    async with running_app(urls, SETTINGS) as (app, client):
        auth = await bearer(client, OWNER, owner_password)
        made = await client.post(
            "/v1/memory/episodes",
            headers=auth,
            json={
                "episode_type": "EVENT",
                "content": "The customer renewed the contract.",
                "importance": 0.9,
                "occurred_at": "2024-05-02T10:00:00Z",
            },
        )
        assert made.status_code == 201, made.text
        episode = made.json()
        assert episode["embedding_status"] == "pending"
        assert episode["valid_from"] == episode["occurred_at"]  # it held from then
        await drain(app)
        shown = (await client.get(f"/v1/memory/episodes/{episode['id']}", headers=auth)).json()
        assert shown["embedding_status"] == "embedded"
        assert shown["embedding_model"] == "hashing/ngrams-384"
        events = await client.get(
            "/v1/memory/episodes", headers=auth, params={"episode_type": "EVENT"}
        )
        assert [e["id"] for e in events.json()["items"]] == [episode["id"]]
        backwards = await client.post(
            "/v1/memory/episodes",
            headers=auth,
            json={
                "content": "x",
                "valid_from": "2024-05-02T00:00:00Z",
                "valid_to": "2024-01-01T00:00:00Z",
            },
        )
        assert backwards.status_code == 422
        assert backwards.json()["errors"][0]["field"] == "valid_to"
        gone = await client.delete(f"/v1/memory/episodes/{episode['id']}", headers=auth)
        assert gone.status_code == 204
        missing = await client.get(f"/v1/memory/episodes/{episode['id']}", headers=auth)
        assert missing.status_code == 404


async def test_erasing_a_session_erases_its_memories_and_the_facts_they_alone_support(
    urls: DatabaseUrls, owner_password: str, owner_engine: AsyncEngine
) -> None:
    async with running_app(urls, SETTINGS) as (app, client):
        auth = await bearer(client, OWNER, owner_password)
        gone, kept = [
            (await client.post("/v1/sessions", headers=auth, json={})).json()["id"]
            for _ in range(2)
        ]
        await say(client, auth, gone, ("user", "My locker code is 4471 at the quarry gym"))
        await say(client, auth, kept, ("user", "I train at the quarry gym"))
        await drain(app)
        (secret,), (shared,) = [
            [
                e["id"]
                for e in (
                    await client.get(
                        "/v1/memory/episodes", headers=auth, params={"session_id": sid}
                    )
                ).json()["items"]
            ]
            for sid in (gone, kept)
        ]
        told = await client.post(
            "/v1/memory/facts",
            headers=auth,
            json={
                "facts": [
                    {
                        "subject": "Me",
                        "relation": "has_locker_code",
                        "object": "4471",
                        "source_episode_ids": [secret],
                    },
                    {
                        "subject": "Me",
                        "relation": "trains_at",
                        "object": "Quarry Gym",
                        "source_episode_ids": [secret, shared],
                    },
                ]
            },
        )
        assert told.status_code == 201, told.text

        erased = await client.delete(f"/v1/sessions/{gone}", headers=auth)
        assert erased.status_code == 204
        found = await client.post(
            "/v1/memory/search", headers=auth, json={"query": "locker code 4471", "facts": 5}
        )
        assert found.status_code == 200 and "4471" not in shown(found.json())
        facts = (await client.get("/v1/memory/facts", headers=auth)).json()
        assert [(f["relation"], f["source_episode_ids"]) for f in facts] == [
            ("trains_at", [shared])
        ]
        async with owner_engine.connect() as conn:
            left = await conn.scalar(
                text("SELECT count(*) FROM episodes WHERE content LIKE '%4471%'")
            )
            audit = await conn.scalar(
                text(
                    "SELECT event_data FROM audit_events WHERE action = 'delete' "
                    "AND resource_type = 'session' AND resource_id = :id"
                ),
                {"id": gone},
            )
        assert left == 0
        assert audit["episodes"] == 1 and "4471" not in str(audit)


async def test_an_imported_history_keeps_the_times_it_was_said(
    urls: DatabaseUrls, owner_password: str, owner_engine: AsyncEngine
) -> None:
    said = [
        ("user", "We adopted a kitten called Miso", "2023-05-08T13:56:00Z"),
        ("assistant", "Congratulations on Miso!", "2023-05-08T13:57:00Z"),
        ("user", "Miso moved with us to Lisbon", "2023-09-02T09:00:00Z"),
    ]
    async with running_app(urls, SETTINGS) as (app, client):
        auth = await bearer(client, OWNER, owner_password)
        sid = (await client.post("/v1/sessions", headers=auth, json={})).json()["id"]
        events = [
            {"event_type": f"message.{role}", "payload": {"content": text, "occurred_at": when}}
            for role, text, when in said
        ]
        appended = await client.post(
            f"/v1/sessions/{sid}/events", headers=auth, json={"events": events}
        )
        assert appended.status_code == 201, appended.text
        await drain(app)
        stored = await episodes(owner_engine, sid)
        assert [e["occurred_at"].isoformat() for e in stored] == [
            "2023-05-08T13:56:00+00:00",
            "2023-05-08T13:57:00+00:00",
            "2023-09-02T09:00:00+00:00",
        ]

        found = await client.post(
            "/v1/memory/search",
            headers=auth,
            json={"query": "Where does Miso live?", "as_of": "2023-06-01T00:00:00Z"},
        )
        assert found.status_code == 200, found.text
        assert "Lisbon" not in shown(found.json())  # not yet said in June
        assert "kitten called Miso" in shown(found.json())

        ahead = {"content": "From the future", "occurred_at": "2999-01-01T00:00:00Z"}
        refused = await client.post(
            f"/v1/sessions/{sid}/events",
            headers=auth,
            json={"events": [{"event_type": "message.user", "payload": ahead}]},
        )
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] == "events.0.payload.occurred_at"
        naive = {"content": "Whenever", "occurred_at": "2023-05-08T13:56:00"}
        unzoned = await client.post(
            f"/v1/sessions/{sid}/events",
            headers=auth,
            json={"events": [{"event_type": "message.user", "payload": naive}]},
        )
        assert unzoned.status_code == 422  # a time without its zone is ambiguous


async def test_a_batch_of_episodes_is_written_whole_or_not_at_all(
    urls: DatabaseUrls, owner_password: str, owner_engine: AsyncEngine
) -> None:
    async with running_app(urls, SETTINGS.model_copy(update={"memory_import_episodes": 3000})) as (
        app,
        client,
    ):
        auth = await bearer(client, OWNER, owner_password)
        persona = (
            await client.post("/v1/personas", headers=auth, json={"name": "Archivist"})
        ).json()
        batch = [
            {
                "episode_type": "TURN",
                "content": f"Caroline: entry {i} of the diary",
                "occurred_at": f"2023-05-{1 + i % 28:02d}T10:00:00Z",
                "persona_id": persona["id"],
                "metadata": {"line": i},
            }
            for i in range(2500)
        ]
        written = await client.post(
            "/v1/memory/episodes/batch", headers=auth, json={"episodes": batch}
        )
        assert written.status_code == 201, written.text
        ids = written.json()["ids"]
        assert len(ids) == len(set(ids)) == 2500
        async with owner_engine.connect() as conn:
            stored = (
                (
                    await conn.execute(
                        text(
                            "SELECT id::text, content, occurred_at, valid_from, metadata, "
                            "embedding_status FROM episodes WHERE id = ANY(CAST(:ids AS uuid[]))"
                        ),
                        {"ids": ids},
                    )
                )
                .mappings()
                .all()
            )
        by_id = {row["id"]: row for row in stored}
        assert [by_id[i]["content"] for i in ids[:3]] == [
            "Caroline: entry 0 of the diary",
            "Caroline: entry 1 of the diary",
            "Caroline: entry 2 of the diary",
        ]
        last = by_id[ids[-1]]
        assert (
            last["occurred_at"].isoformat()
            == "2023-05-08T10:00:00+00:00"
            == last["valid_from"].isoformat()
        )
        assert last["metadata"] == {"line": 2499} and last["embedding_status"] == "pending"
        await drain(app)  # embedded later, as every episode
        found = await client.post(
            "/v1/memory/search", headers=auth, json={"query": "entry 1234 of the diary", "k": 1}
        )
        assert found.json()["episodes"][0]["content"] == "Caroline: entry 1234 of the diary"
        audit = await client.get("/v1/audit", headers=auth, params={"resource_type": "episode"})
        assert {"batch": 2500} in [e["event_data"] for e in audit.json()["items"]]

        broken = [*batch[:10], {**batch[10], "persona_id": str(uuid.uuid4())}]
        refused = await client.post(
            "/v1/memory/episodes/batch", headers=auth, json={"episodes": broken}
        )
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] == "episodes.10.persona_id"
        backwards = [{**batch[0], "valid_to": "2020-01-01T00:00:00Z"}]
        refused = await client.post(
            "/v1/memory/episodes/batch", headers=auth, json={"episodes": backwards}
        )
        assert refused.json()["errors"][0]["field"] == "episodes.0.valid_to"
        too_many = await client.post(
            "/v1/memory/episodes/batch", headers=auth, json={"episodes": batch + batch[:501]}
        )
        assert too_many.status_code == 422 and too_many.json()["errors"][0]["field"] == "episodes"
        async with owner_engine.connect() as conn:
            count = (
                await conn.execute(
                    text("SELECT count(*) FROM episodes WHERE persona_id = :p"),
                    {"p": persona["id"]},
                )
            ).scalar_one()
        assert count == 2500  # nothing of the refused batches was written
