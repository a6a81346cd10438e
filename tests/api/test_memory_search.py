"""Memory search: scope, importance, time travel in both times, facts alongside, and a
token budget."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from personae.db.engine import DatabaseUrls
from tests.api.conftest import bearer, running_app
from tests.api.test_documents import drain
from tests.api.test_memory_writing import SETTINGS, say

OWNER = "owner@memory-search.example.com"


async def recall(client: httpx.AsyncClient, auth: dict[str, str], **body: Any) -> dict[str, Any]:
    response = await client.post("/v1/memory/search", headers=auth, json=body)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def note(client: httpx.AsyncClient, auth: dict[str, str], **body: Any) -> dict[str, Any]:
    response = await client.post("/v1/memory/episodes", headers=auth, json=body)
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


async def test_memory_search_keeps_to_scope_and_time_and_weighs_importance(
    urls: DatabaseUrls, owner_password: str
) -> None:
    async with running_app(urls, SETTINGS) as (app, client):
        auth = await bearer(client, OWNER, owner_password)
        ours = (await client.post("/v1/sessions", headers=auth, json={})).json()["id"]
        theirs = (await client.post("/v1/sessions", headers=auth, json={})).json()["id"]
        await say(client, auth, ours, ("user", "My dog Pixel loves the beach"))
        await say(client, auth, theirs, ("user", "My dog Rex loves the beach too"))
        minor = await note(client, auth, content="The garden shed is painted green", importance=0.1)
        major = await note(
            client, auth, content="The garden shed is painted green!", importance=1.0
        )
        await drain(app)

        scoped = await recall(client, auth, query="dog beach", session_id=ours)
        assert [e["content"] for e in scoped["episodes"]] == ["user: My dog Pixel loves the beach"]
        assert scoped["episodes"][0]["source_event_ids"]  # provenance: the session event

        shed = await recall(client, auth, query="garden shed painted green", k=2)
        assert [e["id"] for e in shed["episodes"]] == [major["id"], minor["id"]]

        # Event time: an event that had not happened yet is not recalled as of before it.
        await note(
            client,
            auth,
            episode_type="EVENT",
            content="The concert in the park was cancelled",
            occurred_at="2024-06-01T00:00:00Z",
        )
        await drain(app)
        before = await recall(client, auth, query="concert park", as_of="2024-05-01T00:00:00Z")
        after = await recall(client, auth, query="concert park", as_of="2024-07-01T00:00:00Z")
        assert before["episodes"] == []
        assert [e["content"] for e in after["episodes"]] == [
            "The concert in the park was cancelled"
        ]
        # System time: what we had not recorded yet is not known at that time.
        known_then = minor["recorded_at"]
        then = await recall(client, auth, query="garden shed painted green", known_at=known_then)
        assert [e["id"] for e in then["episodes"]] == [minor["id"]]


async def test_facts_come_with_their_validity_and_the_budget_is_kept(
    urls: DatabaseUrls, owner_password: str
) -> None:
    async with running_app(urls, SETTINGS) as (app, client):
        auth = await bearer(client, OWNER, owner_password)
        stored = await client.post(
            "/v1/memory/facts",
            headers=auth,
            json={
                "facts": [
                    {
                        "subject": "Marta Silva",
                        "relation": "works_at",
                        "object": "Lighthouse Bakery",
                        "valid_from": "2023-02-01T00:00:00Z",
                        "exclusive": True,
                    },
                    {
                        "subject": "Marta Silva",
                        "relation": "works_at",
                        "object": "Harbour Cafe",
                        "valid_from": "2024-03-01T00:00:00Z",
                    },
                ]
            },
        )
        assert stored.status_code == 201, stored.text
        for i in range(6):
            await note(client, auth, content=f"Marta Silva bakes bread on day {i} " + "x " * 40)
        await drain(app)

        now = await recall(client, auth, query="where does Marta Silva work", facts=3)
        assert [(f["object"], f["valid_to"]) for f in now["facts"]][:1] == [("Harbour Cafe", None)]
        past = await recall(
            client, auth, query="where does Marta Silva work", as_of="2023-06-01T00:00:00Z"
        )
        assert [f["object"] for f in past["facts"]][:1] == ["Lighthouse Bakery"]
        assert past["facts"][0]["valid_to"].startswith("2024-03-01")

        everything = await recall(client, auth, query="Marta Silva bread", k=6, facts=0)
        assert len(everything["episodes"]) == 6
        small = await recall(
            client, auth, query="Marta Silva bread", k=6, facts=0, budget_tokens=60
        )
        assert 1 <= len(small["episodes"]) < 6 and small["tokens"] <= 60
        assert small["episodes"][0]["id"] == everything["episodes"][0]["id"]  # the best first


async def test_the_turns_around_a_hit_come_along(urls: DatabaseUrls, owner_password: str) -> None:
    async with running_app(urls, SETTINGS) as (app, client):
        auth = await bearer(client, OWNER, owner_password)
        sid = (await client.post("/v1/sessions", headers=auth, json={})).json()["id"]
        lines = [
            "Shall we plan the weekend?",
            "What did the vet say about Biscuit?",
            "Biscuit needs a tooth pulled on Friday.",
            "Poor thing, I will book the afternoon off.",
            "Also the boiler is making noises again.",
        ]
        await say(client, auth, sid, *[("user", line) for line in lines])
        await drain(app)
        query = {"query": "tooth pulled Friday", "k": 3, "session_id": sid, "mode": "text"}
        alone = await recall(client, auth, **query, neighbours=0)
        assert [e["content"] for e in alone["episodes"]] == [f"user: {lines[2]}"]
        around = await recall(client, auth, **query)
        hit, *others = around["episodes"]
        assert hit["content"] == f"user: {lines[2]}"
        assert {e["content"] for e in others} == {f"user: {lines[1]}", f"user: {lines[3]}"}
        assert all(e["score"] == hit["score"] / 2 and e["text_rank"] is None for e in others)
        wider = await recall(client, auth, **{**query, "k": 10}, neighbours=2)
        assert len(wider["episodes"]) == 5


async def test_equal_memories_come_back_in_one_order_restart_or_not(
    urls: DatabaseUrls, owner_password: str, owner_engine: AsyncEngine
) -> None:
    said = "2025-03-01T12:00:00Z"
    async with running_app(urls, SETTINGS) as (app, client):
        auth = await bearer(client, OWNER, owner_password)
        twins = [
            (await note(client, auth, content="We took the ferry to the island", occurred_at=said))
            for _ in range(30)
        ]  # the same text, time and importance: every score ties
        await drain(app)
        async with owner_engine.begin() as conn:  # the oldest rows move to the table's end
            await conn.execute(
                text("UPDATE episodes SET importance = importance WHERE id = ANY(:ids)"),
                {"ids": [uuid.UUID(t["id"]) for t in twins[:10]]},
            )
        asked = {"query": "ferry to the island", "k": 5, "neighbours": 0}
        first = [e["id"] for e in (await recall(client, auth, **asked))["episodes"]]
    async with running_app(urls, SETTINGS) as (app, client):  # the server restarted
        auth = await bearer(client, OWNER, owner_password)
        again = [e["id"] for e in (await recall(client, auth, **asked))["episodes"]]
    assert first == again == sorted(t["id"] for t in twins)[:5]  # ties go to the lowest ids


async def test_a_rare_word_outweighs_a_name_every_memory_holds(
    urls: DatabaseUrls, owner_password: str
) -> None:
    async with running_app(urls, SETTINGS) as (app, client):
        auth = await bearer(client, OWNER, owner_password)
        sid = (await client.post("/v1/sessions", headers=auth, json={})).json()["id"]
        said = [
            "Caroline: Caroline here! Caroline again, as Caroline always says.",
            "Caroline: We went biking around the lake last weekend.",
            *(f"Caroline: Caroline thinks item {n} matters." for n in range(8)),
        ]
        for line in said:
            await note(client, auth, content=line, session_id=sid)
        await drain(app)
        asked = {"query": "Caroline biking", "k": 3, "session_id": sid, "neighbours": 0}
        found = await recall(client, auth, **asked, mode="text")
        assert found["episodes"][0]["content"] == said[1]  # every memory names Caroline
        scores = [e["text_score"] for e in found["episodes"]]
        assert scores[0] > 2 * scores[1]


async def test_the_period_a_query_names_counts_its_memories_more(
    urls: DatabaseUrls, owner_password: str
) -> None:
    async with running_app(urls, SETTINGS) as (app, client):
        auth = await bearer(client, OWNER, owner_password)
        sid = (await client.post("/v1/sessions", headers=auth, json={})).json()["id"]
        days = {"2023-07-12T10:00:00Z": "July 2023", "2024-01-20T10:00:00Z": "January 2024"}
        for when in days:
            await note(
                client,
                auth,
                content="We went sailing with the kids",
                occurred_at=when,
                session_id=sid,
            )
        await drain(app)
        for when, named in days.items():
            asked = {"query": f"Did we go sailing in {named}?", "k": 2, "session_id": sid}
            found = (await recall(client, auth, **asked))["episodes"]
            assert [e["occurred_at"][:10] for e in found][:1] == [when[:10]]
            unweighed = (await recall(client, auth, **asked, when_weight=0))["episodes"]
            plain = {e["id"]: e["score"] for e in unweighed}
            for hit in found:  # the period's memory counts twice (when_weight 1), the other once
                in_period = hit["occurred_at"][:10] == when[:10]
                assert hit["score"] == pytest.approx(plain[hit["id"]] * (2 if in_period else 1))
