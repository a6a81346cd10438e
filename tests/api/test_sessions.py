"""Sessions as event logs: appends (conditional, idempotent, validated), derived views
that a rebuild reproduces exactly, find-or-create by channel identity, erasure."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from personae.db.engine import DatabaseUrls
from personae.sessions import log
from tests.api.conftest import ClientFactory, bearer

OWNER = "owner@sessions.example.com"


def user(content: str) -> dict[str, object]:
    return {"event_type": "message.user", "payload": {"content": content}}


async def test_appends_derive_messages_and_envelope(
    urls: DatabaseUrls, api_client: ClientFactory, owner_password: str
) -> None:
    async with api_client(urls) as client:
        auth = await bearer(client, OWNER, owner_password)
        made = await client.post(
            "/v1/sessions", headers=auth, json={"title": "Hello", "variables": {"lang": "en"}}
        )
        assert made.status_code == 201, made.text
        session = made.json()
        assert session["last_seq"] == 1 and session["title"] == "Hello"
        assert session["variables"] == {"lang": "en"} and session["status"] == "ACTIVE"
        events = f"/v1/sessions/{session['id']}/events"

        batch = [
            user("hi"),
            {
                "event_type": "message.assistant",
                "payload": {
                    "content": "",
                    "tool_calls": [{"id": "c1", "name": "lookup", "arguments": {"q": "x"}}],
                },
            },
            {"event_type": "message.tool", "payload": {"content": "42", "tool_call_id": "c1"}},
            {"event_type": "session.updated", "payload": {"variables": {"tz": "UTC"}}},
            {
                "event_type": "turn.completed",
                "payload": {"turn_number": 1, "user_message": "hi", "assistant_response": "42"},
            },
        ]
        appended = await client.post(
            events, headers=auth, json={"events": batch, "expected_seq": 1}
        )
        assert appended.status_code == 201, appended.text
        assert [e["seq"] for e in appended.json()["events"]] == [2, 3, 4, 5, 6]
        assert appended.json()["last_seq"] == 6

        messages = (await client.get(f"/v1/sessions/{session['id']}/messages", headers=auth)).json()
        assert [(m["seq"], m["role"]) for m in messages] == [
            (2, "user"),
            (3, "assistant"),
            (4, "tool"),
        ]
        assert messages[1]["tool_calls"][0]["name"] == "lookup"
        assert messages[2]["tool_call_id"] == "c1"
        turns = (await client.get(f"/v1/sessions/{session['id']}/turns", headers=auth)).json()
        assert [t["turn_number"] for t in turns] == [1]
        now = (await client.get(f"/v1/sessions/{session['id']}", headers=auth)).json()
        assert now["variables"] == {"lang": "en", "tz": "UTC"} and now["last_seq"] == 6

        patched = await client.patch(
            f"/v1/sessions/{session['id']}", headers=auth, json={"status": "IDLE"}
        )
        assert patched.json()["status"] == "IDLE" and patched.json()["last_seq"] == 7
        log_page = (await client.get(f"{events}?after=5", headers=auth)).json()
        assert [e["event_type"] for e in log_page["items"]] == ["turn.completed", "session.updated"]


async def test_a_turn_left_unnumbered_takes_the_sessions_next(
    urls: DatabaseUrls, api_client: ClientFactory, owner_password: str
) -> None:
    async with api_client(urls) as client:
        auth = await bearer(client, OWNER, owner_password)
        session = (await client.post("/v1/sessions", headers=auth, json={})).json()
        events = f"/v1/sessions/{session['id']}/events"

        def turn(said: str, number: int | None = None) -> dict[str, object]:
            payload: dict[str, object] = {"user_message": said}
            if number is not None:
                payload["turn_number"] = number
            return {"event_type": "turn.completed", "payload": payload}

        batches = [[turn("one", 1)], [turn("two"), user("x"), turn("three")], [turn("four")]]
        key = {"Idempotency-Key": "numbered", **auth}
        for index, batch in enumerate(batches):
            sent = await client.post(
                events, headers=key if index == 2 else auth, json={"events": batch}
            )
            assert sent.status_code == 201, sent.text
        again = await client.post(events, headers=key, json={"events": batches[2]})
        assert again.headers["idempotent-replayed"] == "true"  # the same body, numbered since

        turns = (await client.get(f"/v1/sessions/{session['id']}/turns", headers=auth)).json()
        assert [(t["turn_number"], t["user_message"]) for t in turns] == [
            (1, "one"),
            (2, "two"),
            (3, "three"),
            (4, "four"),
        ]
        logged = (await client.get(events, headers=auth)).json()["items"]
        numbers = [
            e["payload"]["turn_number"] for e in logged if e["event_type"] == "turn.completed"
        ]
        assert numbers == [1, 2, 3, 4]  # the stored events hold their numbers too


async def test_conditional_and_idempotent_appends(
    urls: DatabaseUrls, api_client: ClientFactory, owner_password: str
) -> None:
    async with api_client(urls) as client:
        auth = await bearer(client, OWNER, owner_password)
        session = (await client.post("/v1/sessions", headers=auth, json={})).json()
        events = f"/v1/sessions/{session['id']}/events"

        stale = await client.post(
            events, headers=auth, json={"events": [user("a")], "expected_seq": 0}
        )
        assert stale.status_code == 409 and stale.json()["last_seq"] == 1

        key = {"Idempotency-Key": "retry-1", **auth}
        first = await client.post(events, headers=key, json={"events": [user("a"), user("b")]})
        again = await client.post(events, headers=key, json={"events": [user("a"), user("b")]})
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json()
        assert again.headers["idempotent-replayed"] == "true"
        other = await client.post(events, headers=key, json={"events": [user("c")]})
        assert other.status_code == 422
        assert other.json()["errors"][0]["field"] == "Idempotency-Key"
        page = (await client.get(events, headers=auth)).json()
        assert [e["seq"] for e in page["items"]] == [1, 2, 3]

        # a key that is another's prefix plus "#" is a key of its own, not a replay
        first = await client.post(
            events, headers={"Idempotency-Key": "order#1", **auth}, json={"events": [user("d")]}
        )
        second = await client.post(
            events, headers={"Idempotency-Key": "order", **auth}, json={"events": [user("d")]}
        )
        assert first.status_code == second.status_code == 201
        assert "idempotent-replayed" not in second.headers
        assert [e["seq"] for e in second.json()["events"]] == [5]


async def test_bad_appends_are_4xx_problems(
    urls: DatabaseUrls, api_client: ClientFactory, owner_password: str
) -> None:
    async with api_client(urls) as client:
        auth = await bearer(client, OWNER, owner_password)
        session = (await client.post("/v1/sessions", headers=auth, json={})).json()
        events = f"/v1/sessions/{session['id']}/events"
        cases = [
            (
                {"events": [{"event_type": "message.nope", "payload": {}}]},
                422,
                "events.0.event_type",
            ),
            (
                {"events": [{"event_type": "message.user", "payload": {}}]},
                422,
                "events.0.payload.content",
            ),
            (
                {"events": [user("ok"), {"event_type": "note", "payload": {"text": 5}}]},
                422,
                "events.1.payload.text",
            ),
            (
                {"events": [{"event_type": "session.created", "payload": {}}]},
                422,
                "events.0.event_type",
            ),
            (
                {"events": [{"event_type": "note", "schema_version": 9, "payload": {"text": "x"}}]},
                422,
                "events.0.schema_version",
            ),
            ({"events": []}, 422, "events"),
            ({"events": [user("x" * 300_000)]}, 413, "events.0.payload"),
        ]
        for body, status, field in cases:
            response = await client.post(events, headers=auth, json=body)
            assert response.status_code == status, (body, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["errors"][0]["field"] == field, response.text
        malformed = await client.post(
            events, headers={**auth, "content-type": "application/json"}, content=b"{not json"
        )
        assert malformed.status_code == 422
        as_text = await client.post(
            events, headers={**auth, "content-type": "text/plain"}, content=b"hello"
        )
        assert 400 <= as_text.status_code < 500
        page = (await client.get(events, headers=auth)).json()
        assert [e["seq"] for e in page["items"]] == [1]  # nothing half-written
        missing = await client.post(
            f"/v1/sessions/{uuid.uuid4()}/events", headers=auth, json={"events": [user("x")]}
        )
        assert missing.status_code == 404


async def test_find_or_create_by_channel_identity(
    urls: DatabaseUrls, api_client: ClientFactory, owner_password: str
) -> None:
    async with api_client(urls) as client:
        auth = await bearer(client, OWNER, owner_password)
        who = {"channel": "telegram", "user_channel_id": "tg-77"}
        first = await client.post("/v1/sessions/by-channel", headers=auth, json=who)
        second = await client.post("/v1/sessions/by-channel", headers=auth, json=who)
        assert (first.status_code, second.status_code) == (201, 200)
        assert first.json()["id"] == second.json()["id"]
        await client.patch(
            f"/v1/sessions/{first.json()['id']}", headers=auth, json={"status": "CLOSED"}
        )
        third = await client.post("/v1/sessions/by-channel", headers=auth, json=who)
        assert third.status_code == 201 and third.json()["id"] != first.json()["id"]
        listed = await client.get(
            "/v1/sessions", headers=auth, params={"channel": "telegram", "status": "CLOSED"}
        )
        assert [s["id"] for s in listed.json()["items"]] == [first.json()["id"]]
        bad_ref = await client.post(
            "/v1/sessions", headers=auth, json={"persona_id": str(uuid.uuid4())}
        )
        assert bad_ref.status_code == 422 and bad_ref.json()["errors"][0]["field"] == "persona_id"


async def test_rebuild_reproduces_the_views_exactly(
    urls: DatabaseUrls,
    api_client: ClientFactory,
    owner_password: str,
    owner_engine: AsyncEngine,
    app_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with api_client(urls) as client:
        auth = await bearer(client, OWNER, owner_password)
        agent = (await client.post("/v1/agents", headers=auth, json={"name": "greeter"})).json()
        session = (
            await client.post(
                "/v1/sessions",
                headers=auth,
                json={"title": "T", "metadata": {"a": 1}, "agent_id": agent["id"]},
            )
        ).json()
        events = f"/v1/sessions/{session['id']}/events"
        steps = [
            {"name": "greet", "transitions": [{"to": "ask", "fallback": True}]},
            {"name": "ask", "terminal": True},
        ]
        scenario = (
            await client.post(
                f"/v1/agents/{agent['id']}/scenarios",
                headers=auth,
                json={"name": "welcome", "steps": steps},
            )
        ).json()["id"]
        batches = [
            [user("one"), {"event_type": "message.assistant", "payload": {"content": "two"}}],
            [
                {
                    "event_type": "scenario.entered",
                    "payload": {"scenario_id": scenario, "version": 1, "step_id": "greet"},
                },
                {"event_type": "scenario.step", "payload": {"step_id": "ask"}},
            ],
            [
                {"event_type": "session.updated", "payload": {"title": "T2", "metadata": {"b": 2}}},
                {
                    "event_type": "turn.completed",
                    "payload": {"turn_number": 1, "user_message": "one"},
                },
                {"event_type": "scenario.exited", "payload": {}},
                {"event_type": "note", "payload": {"text": "remember"}},
            ],
        ]
        for batch in batches:
            assert (await client.post(events, headers=auth, json={"events": batch})).is_success

    async def views() -> tuple[Any, ...]:
        async with owner_engine.connect() as conn:
            envelope = (
                await conn.execute(
                    text("SELECT to_jsonb(s) - 'updated_at' FROM sessions s WHERE id = :id"),
                    {"id": session["id"]},
                )
            ).scalar_one()
            messages = (
                await conn.execute(
                    text(
                        "SELECT jsonb_agg(to_jsonb(m) - 'id' - 'created_at' ORDER BY seq) "
                        "FROM messages m WHERE session_id = :id"
                    ),
                    {"id": session["id"]},
                )
            ).scalar_one()
            turns = (
                await conn.execute(
                    text(
                        "SELECT jsonb_agg(to_jsonb(t) - 'id' - 'created_at' ORDER BY turn_number) "
                        "FROM turn_records t WHERE session_id = :id"
                    ),
                    {"id": session["id"]},
                )
            ).scalar_one()
        return envelope, messages, turns

    before = await views()
    assert before[0]["active_scenario_id"] is None and len(before[0]["step_history"]) == 2
    assert await log.rebuild_all(app_sessions, uuid.UUID(session["id"])) == 1
    assert await views() == before


async def test_deleting_a_session_erases_it_and_is_audited(
    urls: DatabaseUrls, api_client: ClientFactory, owner_password: str, owner_engine: AsyncEngine
) -> None:
    async with api_client(urls) as client:
        auth = await bearer(client, OWNER, owner_password)
        session = (await client.post("/v1/sessions", headers=auth, json={})).json()
        path = f"/v1/sessions/{session['id']}"
        await client.post(f"{path}/events", headers=auth, json={"events": [user("bye")]})
        assert (await client.delete(path, headers=auth)).status_code == 204
        assert (await client.get(path, headers=auth)).status_code == 404
        audit = (
            await client.get("/v1/audit", headers=auth, params={"resource_id": session["id"]})
        ).json()["items"]
        assert audit[0]["event_type"] == "session.delete"
        assert audit[0]["event_data"] == {"events": 2, "attachments": 0, "episodes": 0}
    async with owner_engine.connect() as conn:
        for table in ("sessions", "session_events", "messages"):
            column = "id" if table == "sessions" else "session_id"
            left = (
                await conn.execute(
                    text(f"SELECT count(*) FROM {table} WHERE {column} = :id"),
                    {"id": session["id"]},
                )
            ).scalar_one()
            assert left == 0, table
