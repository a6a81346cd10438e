"""What memory makes of turns in the background: facts and entities extracted by the
tenant's utility model (through the scripted OpenAI-compatible server, with tokens and
cost recorded), and window and meta summaries of long sessions."""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from personae.db.engine import DatabaseUrls
from personae.settings import Settings
from tests.api.conftest import bearer, running_app
from tests.api.test_documents import drain
from tests.api.test_memory_writing import say
from tests.scripted_openai import Script, scripted_openai

SETTINGS = Settings(connect_timeout_s=2, embedder="hashing")

MOVED = {
    "entities": [
        {"name": "Caroline", "type": "person", "aliases": ["Caro"]},
        {"name": "Sweden", "type": "place"},
    ],
    "facts": [
        {
            "subject": "Caroline",
            "relation": "Lives in",
            "object": "Sweden",
            "fact": "Caroline lives in Sweden.",
            "valid_from": "2023-05-08",
            "exclusive": True,
            "turns": [1],
        },
        {"subject": "Caroline", "relation": "!!!", "object": "nothing"},  # no relation
        {"subject": "Caroline"},  # not a fact
    ],
}
MOVED_AGAIN = {
    "entities": [{"name": "Caro", "type": "person"}, {"name": "Norway", "type": "place"}],
    "facts": [
        {
            "subject": "Caro",
            "relation": "lives_in",
            "object": "Norway",
            "valid_from": "2024-02-01",
            "exclusive": True,
        }
    ],
}
MENTIONS = text(
    "SELECT en.name, ep.content FROM entity_mentions AS m JOIN entities AS en ON "
    "en.id = m.entity_id JOIN episodes AS ep ON ep.id = m.episode_id "
    "WHERE ep.session_id = :session ORDER BY ep.source_event_ids[1], en.name"
)
SUMMARIES = text(
    "SELECT content, metadata, source_event_ids, embedding_status FROM episodes "
    "WHERE session_id = :session AND episode_type = 'SUMMARY' "
    "ORDER BY (metadata->>'level')::int, (metadata->>'index')::int"
)


async def utility_model(
    client: httpx.AsyncClient, auth: dict[str, str], base: str, **config: Any
) -> None:
    body = {"name": "extractor", "model_type": "utility", "provider": "openai", "base_url": base}
    made = await client.post("/v1/model-configs", headers=auth, json={**body, **config})
    assert made.status_code == 201, made.text


async def new_session(client: httpx.AsyncClient, auth: dict[str, str]) -> str:
    persona = await client.post("/v1/personas", headers=auth, json={"name": "Listener"})
    made = await client.post(
        "/v1/sessions", headers=auth, json={"persona_id": persona.json()["id"]}
    )
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


async def flag(client: httpx.AsyncClient, auth: dict[str, str], name: str, on: bool) -> None:
    put = await client.put(f"/v1/flags/{name}", headers=auth, json={"enabled": on})
    assert put.status_code == 200, put.text


async def test_facts_are_extracted_from_turns_with_their_support_mentions_and_cost(
    urls: DatabaseUrls, fresh_owner: tuple[str, str], owner_engine: AsyncEngine
) -> None:
    script = Script(replies=[f"```json\n{json.dumps(MOVED)}\n```", json.dumps(MOVED_AGAIN)])
    async with scripted_openai(script) as base, running_app(urls, SETTINGS) as (app, client):
        auth = await bearer(client, *fresh_owner)
        await flag(client, auth, "memory_extraction", True)
        await utility_model(
            client,
            auth,
            base,
            model_name="scripted-extractor",
            api_key="sk-extraction-secret",
            input_cost_per_mtok=1.5,
            output_cost_per_mtok=6,
        )
        sid = await new_session(client, auth)
        await say(
            client, auth, sid, ("user", "I'm Caroline, I moved to Sweden"), ("assistant", "Hej!")
        )
        await drain(app)
        await say(client, auth, sid, ("user", "Caro here again: I live in Norway now"))
        await drain(app)

        asked = [r["messages"][1]["content"] for r in script.chat_requests]
        assert len(asked) == 2  # one call per batch of new turns, none for turns read
        assert asked[0].startswith("[1] (") and "user: I'm Caroline" in asked[0]
        assert "[2] (" in asked[0] and "Caro here" not in asked[0]

        turns = await client.get("/v1/memory/episodes", headers=auth, params={"session_id": sid})
        by_text = {e["content"]: e["id"] for e in turns.json()["items"]}
        history = await client.get(
            "/v1/memory/facts", headers=auth, params={"relation": "lives_in", "history": True}
        )
        facts = sorted(history.json(), key=lambda f: f["valid_from"])
        assert [(f["subject"], f["object"]) for f in facts] == [
            ("Caroline", "Sweden"),
            ("Caroline", "Norway"),  # the alias resolved to the same person
        ]
        sweden, norway = facts
        assert sweden["valid_from"].startswith("2023-05-08")
        assert sweden["valid_to"] == norway["valid_from"]  # the move closed the old one
        assert sweden["source_episode_ids"] == [by_text["user: I'm Caroline, I moved to Sweden"]]
        assert norway["source_episode_ids"] == [
            by_text["user: Caro here again: I live in Norway now"]
        ]

        async with owner_engine.connect() as conn:
            mentions = (await conn.execute(MENTIONS, {"session": sid})).all()
            audit = (
                (
                    await conn.execute(
                        text(
                            "SELECT event_data FROM audit_events WHERE action = 'extract' "
                            "AND resource_id = :s ORDER BY created_at"
                        ),
                        {"s": sid},
                    )
                )
                .scalars()
                .all()
            )
        assert [tuple(m) for m in mentions] == [
            ("Caroline", "user: I'm Caroline, I moved to Sweden"),
            ("Sweden", "user: I'm Caroline, I moved to Sweden"),
            ("Caroline", "user: Caro here again: I live in Norway now"),
            ("Norway", "user: Caro here again: I live in Norway now"),
        ]
        first = audit[0]
        assert (first["turns"], first["facts"], first["model"]) == (2, 1, "scripted-extractor")
        spent = first["input_tokens"] * 1.5 + first["output_tokens"] * 6
        assert first["input_tokens"] > 0 and first["cost_usd"] == round(spent / 1e6, 8)
        assert "sk-extraction-secret" not in json.dumps(audit)


async def test_an_answer_that_is_not_json_marks_its_turns_read_with_the_error(
    urls: DatabaseUrls, fresh_owner: tuple[str, str], owner_engine: AsyncEngine
) -> None:
    script = Script(replies=["I'd rather chat about the weather."])
    async with scripted_openai(script) as base, running_app(urls, SETTINGS) as (app, client):
        auth = await bearer(client, *fresh_owner)
        await flag(client, auth, "memory_extraction", True)
        await utility_model(client, auth, base, model_name="chatty")
        sid = await new_session(client, auth)
        await say(client, auth, sid, ("user", "Bob works at the bakery"))
        await drain(app)
        await drain(app)
        assert len(script.chat_requests) == 1  # not asked again and again
        async with owner_engine.connect() as conn:
            marks = (
                (
                    await conn.execute(
                        text("SELECT metadata->'extracted' FROM episodes WHERE session_id = :s"),
                        {"s": sid},
                    )
                )
                .scalars()
                .all()
            )
        assert marks == [{"model": "chatty", "error": "the model's answer is not a JSON object"}]


async def test_long_sessions_get_window_and_meta_summaries_once(
    urls: DatabaseUrls, fresh_owner: tuple[str, str], owner_engine: AsyncEngine
) -> None:
    settings = SETTINGS.model_copy(
        update={"memory_summary_window": 3, "memory_meta_window": 2, "memory_batch_size": 2}
    )
    script = Script(replies=["They planned a trip to the coast."])
    async with scripted_openai(script) as base, running_app(urls, settings) as (app, client):
        auth = await bearer(client, *fresh_owner)
        await flag(client, auth, "memory_extraction", False)
        sid = await new_session(client, auth)
        lines = [
            "We should visit the coast in June.",
            "The coast has cliffs and seals.",
            "Seals sleep on the rocks at noon.",
            "Trains to the coast leave at nine.",
            "Nine is early but the train is quick.",
            "Pack boots for the cliffs and rocks.",
            "A seventh line with no window yet.",
        ]
        events = await say(client, auth, sid, *[("user", line) for line in lines])
        await drain(app)
        async with owner_engine.connect() as conn:
            found = (await conn.execute(SUMMARIES, {"session": sid})).all()
        assert [(s.metadata["level"], s.metadata["index"]) for s in found] == [
            (1, 0),
            (1, 1),
            (2, 0),
        ]
        first, second, meta = found
        ids = [e["id"] for e in events]
        assert first.source_event_ids == ids[:3] and second.source_event_ids == ids[3:6]
        assert meta.source_event_ids == ids[:6]
        assert len(meta.metadata["sources"]) == 2
        assert {s.metadata["curated"] for s in found} == {"extractive"}  # no utility model
        assert {s.embedding_status for s in found} == {"embedded"}
        assert "seals" in first.content.lower() and "seventh" not in second.content
        assert script.chat_requests == []

        # with a utility model the next window is written by it, with its usage
        await utility_model(client, auth, base, model_name="scribe")
        more = ["The hotel faces the sea.", "Breakfast is at eight."]
        await say(client, auth, sid, *[("user", line) for line in more])
        await drain(app)
        await drain(app)  # nothing due twice
        async with owner_engine.connect() as conn:
            found = (await conn.execute(SUMMARIES, {"session": sid})).all()
        windows = [s for s in found if s.metadata["level"] == 1]
        assert len(windows) == 3 and len(found) == 4
        assert windows[2].content == "They planned a trip to the coast."
        assert windows[2].metadata["model"] == "scribe" and windows[2].metadata["cost_usd"] is None
        assert "A seventh line" in script.chat_requests[0]["messages"][1]["content"]

        asked = {"query": "trip to the coast", "k": 3}
        summaries = await client.post(
            "/v1/memory/search", headers=auth, json={**asked, "episode_types": ["SUMMARY"]}
        )
        assert summaries.status_code == 200, summaries.text
        assert "They planned a trip to the coast." in [
            h["content"] for h in summaries.json()["episodes"]
        ]
        # by default a summary takes no place: it stands for its source turns, after the
        # turns that match, never pushing one out of the top k
        mixed = (await client.post("/v1/memory/search", headers=auth, json=asked)).json()
        alone = await client.post(
            "/v1/memory/search", headers=auth, json={**asked, "episode_types": ["TURN"]}
        )
        assert {h["episode_type"] for h in mixed["episodes"]} == {"TURN"}
        assert [h["id"] for h in mixed["episodes"]] == [h["id"] for h in alone.json()["episodes"]]
        # asked to, the best matching summary brings its source turns (no turn says "planned")
        plans = {"query": "planned", "mode": "text", "neighbours": 0}
        none = await client.post("/v1/memory/search", headers=auth, json=plans)
        assert none.json()["episodes"] == []
        lane = await client.post(
            "/v1/memory/search", headers=auth, json={**plans, "summaries": 1, "sources": 2}
        )
        shown = lane.json()["episodes"]
        assert len(shown) == 2 and {h["episode_type"] for h in shown} == {"TURN"}
        assert {h["id"] for h in shown} <= {str(i) for i in windows[2].metadata["sources"]}
