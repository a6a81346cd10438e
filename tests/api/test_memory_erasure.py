"""Erasure: deleting a customer profile, a persona or a session erases its memories, the
facts only they supported, the mentions and the entities nothing names any more, in one
transaction, and the audit says what went without saying what it was."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from personae.db.engine import DatabaseUrls
from personae.settings import Settings
from tests.api.conftest import bearer, running_app
from tests.api.test_documents import drain
from tests.api.test_memory_facts import post_facts
from tests.api.test_memory_writing import say, shown

SETTINGS = Settings(connect_timeout_s=2, embedder="hashing")
SECRET = "4471"
TRACES = text(
    "SELECT (SELECT count(*) FROM episodes WHERE content LIKE :like) "
    "+ (SELECT count(*) FROM entities WHERE name LIKE :like OR array_to_string(aliases, ' ') "
    "LIKE :like) + (SELECT count(*) FROM relationships WHERE fact LIKE :like) "
    "+ (SELECT count(*) FROM entity_mentions WHERE mention_text LIKE :like) "
    "+ (SELECT count(*) FROM messages WHERE content LIKE :like)"
)
AUDIT = text(
    "SELECT event_data FROM audit_events WHERE action = :action AND resource_id = :id "
    "ORDER BY id DESC LIMIT 1"
)


async def made(client: httpx.AsyncClient, auth: dict[str, str], path: str, **body: Any) -> str:
    response = await client.post(path, headers=auth, json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def traces(owner_engine: AsyncEngine, words: str) -> int:
    async with owner_engine.connect() as conn:
        return int(await conn.scalar(TRACES, {"like": f"%{words}%"}) or 0)


async def audited(owner_engine: AsyncEngine, action: str, row_id: str) -> dict[str, Any]:
    async with owner_engine.connect() as conn:
        data: dict[str, Any] = await conn.scalar(AUDIT, {"action": action, "id": row_id})
        return data


async def recall(client: httpx.AsyncClient, auth: dict[str, str], query: str) -> str:
    found = await client.post(
        "/v1/memory/search", headers=auth, json={"query": query, "facts": 10, "k": 20}
    )
    assert found.status_code == 200, found.text
    return shown(found.json())


async def test_erasing_a_customer_leaves_nothing_that_mentions_them(
    urls: DatabaseUrls, fresh_owner: tuple[str, str], owner_engine: AsyncEngine
) -> None:
    async with running_app(urls, SETTINGS) as (app, client):
        auth = await bearer(client, *fresh_owner)
        dana = await made(client, auth, "/v1/customer-profiles", display_name="Dana")
        other = await made(client, auth, "/v1/sessions")
        sid = await made(client, auth, "/v1/sessions", customer_profile_id=dana)
        await say(client, auth, sid, ("user", f"My locker {SECRET} is at the Quarry Gym"))
        await say(client, auth, other, ("user", "The Quarry Gym opens at six"))
        note = await made(
            client,
            auth,
            "/v1/memory/episodes",
            content=f"Dana keeps spare keys in locker {SECRET}",
            customer_profile_id=dana,
        )
        await drain(app)
        turn, shared = [
            (
                await client.get("/v1/memory/episodes", headers=auth, params={"session_id": s})
            ).json()["items"][0]["id"]
            for s in (sid, other)
        ]
        await post_facts(
            client,
            auth,
            customer_profile_id=dana,
            facts=[
                {
                    "subject": "Dana",
                    "relation": "uses_locker",
                    "object": f"Locker {SECRET}",
                    "source_episode_ids": [turn, note],
                }
            ],
        )
        await post_facts(
            client,
            auth,
            facts=[
                {
                    "subject": "Quarry Gym",
                    "relation": "opens_at",
                    "object": "six",
                    "source_episode_ids": [turn, shared],
                }
            ],
        )
        assert await traces(owner_engine, SECRET) > 0
        assert SECRET in await recall(client, auth, f"locker {SECRET}")

        erased = await client.delete(f"/v1/customer-profiles/{dana}", headers=auth)
        assert erased.status_code == 204, erased.text

        assert await traces(owner_engine, SECRET) == 0
        assert SECRET not in await recall(client, auth, f"locker {SECRET}")
        assert (await client.get(f"/v1/sessions/{sid}", headers=auth)).status_code == 404
        assert (await client.get(f"/v1/customer-profiles/{dana}", headers=auth)).status_code == 404
        facts = (await client.get("/v1/memory/facts", headers=auth)).json()
        assert [(f["subject"], f["source_episode_ids"]) for f in facts] == [
            ("Quarry Gym", [shared])  # another's memory supports it still
        ]
        audit = await audited(owner_engine, "delete", dana)
        assert audit == {"sessions": 1, "episodes": 1, "facts": 1, "entities": 2}
        assert (await audited(owner_engine, "delete", sid))["episodes"] == 1
        assert SECRET not in str(audit)


async def test_erasing_a_session_takes_the_entities_only_it_named(
    urls: DatabaseUrls, fresh_owner: tuple[str, str], owner_engine: AsyncEngine
) -> None:
    async with running_app(urls, SETTINGS) as (app, client):
        auth = await bearer(client, *fresh_owner)
        gym = await made(client, auth, "/v1/entities", name="Quarry Gym", entity_type="place")
        sid = await made(client, auth, "/v1/sessions")
        await say(client, auth, sid, ("user", f"Locker {SECRET} at the Quarry Gym is mine"))
        await drain(app)
        turn = (
            await client.get("/v1/memory/episodes", headers=auth, params={"session_id": sid})
        ).json()["items"][0]["id"]
        await post_facts(
            client,
            auth,
            facts=[
                {
                    "subject": f"Locker {SECRET}",
                    "relation": "is_in",
                    "object": "Quarry Gym",
                    "source_episode_ids": [turn],
                }
            ],
        )
        graph = await client.get(
            "/v1/memory/graph", headers=auth, params={"entity_id": gym, "depth": 1}
        )
        assert {e["name"] for e in graph.json()["entities"]} == {"Quarry Gym", f"Locker {SECRET}"}

        assert (await client.delete(f"/v1/sessions/{sid}", headers=auth)).status_code == 204
        assert await traces(owner_engine, SECRET) == 0  # the learned entity went with it
        kept = await client.get(f"/v1/entities/{gym}", headers=auth)
        assert kept.status_code == 200  # a user made this one: it stays


async def test_deleting_a_persona_erases_its_memories(
    urls: DatabaseUrls, fresh_owner: tuple[str, str], owner_engine: AsyncEngine
) -> None:
    async with running_app(urls, SETTINGS) as (app, client):
        auth = await bearer(client, *fresh_owner)
        persona = await made(client, auth, "/v1/personas", name="Confidant")
        sid = await made(client, auth, "/v1/sessions", persona_id=persona)
        await say(client, auth, sid, ("user", f"Keep {SECRET} between us"))
        await made(
            client,
            auth,
            "/v1/entities",
            name=f"Code {SECRET}",
            entity_type="thing",
            persona_id=persona,
        )
        await drain(app)
        assert await traces(owner_engine, SECRET) == 3  # message, episode, entity

        reader = await client.post(
            "/v1/tokens", headers=auth, json={"name": "reader", "scopes": ["personas:read"]}
        )
        refused = await client.delete(
            f"/v1/personas/{persona}",
            headers={"Authorization": f"Bearer {reader.json()['token']}"},
        )
        assert refused.status_code == 403
        assert await traces(owner_engine, SECRET) == 3  # a refused deletion erases nothing

        gone = await client.delete(f"/v1/personas/{persona}", headers=auth)
        assert gone.status_code == 204
        assert await traces(owner_engine, SECRET) == 1  # the session's own message is kept
        assert (await audited(owner_engine, "delete", persona))["erased"] == {
            "episodes": 1,
            "facts": 0,
            "entities": 1,
        }
        assert SECRET not in await recall(client, auth, SECRET)
