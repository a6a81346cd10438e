"""Conversation telemetry, and a session's export as JSON Lines."""

from __future__ import annotations

import json

from personae.db.engine import DatabaseUrls
from tests.api.conftest import ClientFactory, bearer, join

OWNER = "owner@telemetry.example.com"


async def test_telemetry_is_recorded_per_conversation_and_queryable(
    urls: DatabaseUrls, api_client: ClientFactory, owner_password: str
) -> None:
    async with api_client(urls) as client:
        auth = await bearer(client, OWNER, owner_password)
        conversation = (await client.post("/v1/sessions", headers=auth, json={})).json()["id"]
        made = await client.post(
            "/v1/telemetry/sessions",
            headers=auth,
            json={"session_id": "web-123", "conversation_id": conversation, "user_id": "u1"},
        )
        assert made.status_code == 201, made.text
        tid = made.json()["id"]
        other = await client.post(
            "/v1/telemetry/sessions", headers=auth, json={"session_id": "web-456"}
        )
        assert other.status_code == 201
        for kind in ("page_view", "click", "page_view"):
            recorded = await client.post(
                f"/v1/telemetry/sessions/{tid}/events",
                headers=auth,
                json={"event_type": kind, "event_data": {"path": "/"}},
            )
            assert recorded.status_code == 201, recorded.text

        by_conversation = await client.get(
            "/v1/telemetry/sessions", headers=auth, params={"conversation_id": conversation}
        )
        assert [s["id"] for s in by_conversation.json()["items"]] == [tid]
        views = await client.get(
            f"/v1/telemetry/sessions/{tid}/events",
            headers=auth,
            params={"event_type": "page_view"},
        )
        assert [e["event_type"] for e in views.json()["items"]] == ["page_view", "page_view"]

        missing = await client.post(
            "/v1/telemetry/sessions",
            headers=auth,
            json={"session_id": "x", "conversation_id": "00000000-0000-7000-8000-000000000000"},
        )
        assert missing.status_code == 422
        viewer = await join(client, auth, "viewer@telemetry.example.com", "viewer")
        refused = await client.post(
            f"/v1/telemetry/sessions/{tid}/events", headers=viewer, json={"event_type": "x"}
        )
        assert refused.status_code == 403
        readable = await client.get(f"/v1/telemetry/sessions/{tid}/events", headers=viewer)
        assert readable.status_code == 200

        # erasing the conversation erases its telemetry
        assert (
            await client.delete(f"/v1/sessions/{conversation}", headers=auth)
        ).status_code == 204
        gone = await client.get(f"/v1/telemetry/sessions/{tid}", headers=auth)
        assert gone.status_code == 404


async def test_export_is_the_session_its_events_then_attachments(
    urls: DatabaseUrls, api_client: ClientFactory, owner_password: str
) -> None:
    async with api_client(urls) as client:
        auth = await bearer(client, OWNER, owner_password)
        sid = (await client.post("/v1/sessions", headers=auth, json={"title": "x"})).json()["id"]
        events = [{"event_type": "message.user", "payload": {"content": f"m{i}"}} for i in range(5)]
        await client.post(f"/v1/sessions/{sid}/events", headers=auth, json={"events": events})
        attached = await client.post(
            f"/v1/sessions/{sid}/attachments",
            headers=auth,
            params={"filename": "a.txt"},
            content=b"hello",
        )
        assert attached.status_code == 201

        exported = await client.get(f"/v1/sessions/{sid}/export", headers=auth)
        assert exported.status_code == 200
        assert exported.headers["content-type"].startswith("application/jsonl")
        rows = [json.loads(line) for line in exported.text.splitlines()]
        assert [r["type"] for r in rows] == ["session"] + ["event"] * 7 + ["attachment"]
        assert rows[0]["data"]["id"] == sid and rows[0]["data"]["last_seq"] == 7
        assert [r["data"]["seq"] for r in rows[1:8]] == list(range(1, 8))
        assert rows[-1]["data"]["id"] == attached.json()["id"]
        assert "content" not in rows[-1]["data"]

        audit = await client.get("/v1/audit", headers=auth, params={"event_type": "session.export"})
        assert [e["resource_id"] for e in audit.json()["items"]] == [sid]
        missing = await client.get(
            "/v1/sessions/00000000-0000-7000-8000-000000000000/export", headers=auth
        )
        assert missing.status_code == 404
