"""Personas, and sharing one on top of tenant roles: editors change, viewers read, others
do not see it; the owner shares it."""

from __future__ import annotations

from personae.db.engine import DatabaseUrls
from tests.api.conftest import ClientFactory, bearer, join, user_id

OWNER = "owner@personas.example.com"


async def test_persona_fields_round_trip(
    urls: DatabaseUrls, api_client: ClientFactory, owner_password: str
) -> None:
    async with api_client(urls) as client:
        owner = await bearer(client, OWNER, owner_password)
        made = await client.post(
            "/v1/personas",
            headers=owner,
            json={"name": "Ada", "system_prompt": "You are Ada.", "metadata": {"tone": "dry"}},
        )
        assert made.status_code == 201, made.text
        persona = made.json()
        assert persona["owner_id"] == await user_id(client, owner)
        assert persona["metadata"] == {"tone": "dry"} and persona["is_active"] is True
        assert persona["neuromodulators"]["dopamine"] == 0.5  # the column's default
        changed = await client.patch(
            f"/v1/personas/{persona['id']}", headers=owner, json={"display_name": "Ada L."}
        )
        assert changed.json()["display_name"] == "Ada L."
        assert changed.json()["system_prompt"] == "You are Ada."  # untouched
        for bad in ({"name": None}, {"is_active": "maybe"}, {"unknown": 1}, {"name": "x" * 256}):
            refused = await client.patch(f"/v1/personas/{persona['id']}", headers=owner, json=bad)
            assert refused.status_code == 422, bad


async def test_sharing_on_top_of_tenant_roles(
    urls: DatabaseUrls, api_client: ClientFactory, owner_password: str
) -> None:
    async with api_client(urls) as client:
        owner = await bearer(client, OWNER, owner_password)
        role = await client.post(
            "/v1/roles", headers=owner, json={"name": "outsider", "permissions": ["audit:read"]}
        )
        assert role.status_code == 201, role.text
        editor = await join(client, owner, "ed@personas.example.com", "outsider")
        viewer = await join(client, owner, "vi@personas.example.com", "outsider")
        nobody = await join(client, owner, "no@personas.example.com", "outsider")

        persona = (await client.post("/v1/personas", headers=owner, json={"name": "Shared"})).json()
        path = f"/v1/personas/{persona['id']}"
        for who in (editor, viewer, nobody):
            assert (await client.get(path, headers=who)).status_code == 404
            assert (await client.get("/v1/personas", headers=who)).json()["items"] == []

        for who, share in ((editor, "editor"), (viewer, "viewer")):
            shared = await client.post(
                f"{path}/members",
                headers=owner,
                json={"user_id": await user_id(client, who), "role": share},
            )
            assert shared.status_code == 201, shared.text

        assert (await client.get(path, headers=viewer)).status_code == 200
        listed = (await client.get("/v1/personas", headers=viewer)).json()["items"]
        assert [p["id"] for p in listed] == [persona["id"]]
        assert (await client.patch(path, headers=viewer, json={"name": "V"})).status_code == 403

        edited = await client.patch(path, headers=editor, json={"description": "by the editor"})
        assert edited.status_code == 200 and edited.json()["description"] == "by the editor"
        assert (await client.delete(path, headers=editor)).status_code == 403
        reshare = await client.post(
            f"{path}/members",
            headers=editor,
            json={"user_id": await user_id(client, nobody), "role": "viewer"},
        )
        assert reshare.status_code == 403  # only the owner (or personas:update) shares

        members = (await client.get(f"{path}/members", headers=viewer)).json()["items"]
        assert {m["role"] for m in members} == {"editor", "viewer"}
        assert (await client.get(path, headers=nobody)).status_code == 404
        assert (await client.get(f"{path}/members", headers=nobody)).status_code == 404

        viewer_share = next(m for m in members if m["role"] == "viewer")
        removed = await client.delete(f"{path}/members/{viewer_share['id']}", headers=owner)
        assert removed.status_code == 204
        assert (await client.get(path, headers=viewer)).status_code == 404
        assert (await client.delete(path, headers=owner)).status_code == 204
        assert (await client.get(path, headers=editor)).status_code == 404


async def test_a_token_uses_its_creators_shares_only_within_its_scopes(
    urls: DatabaseUrls, api_client: ClientFactory, owner_password: str
) -> None:
    async with api_client(urls) as client:
        owner = await bearer(client, OWNER, owner_password)
        persona = (await client.post("/v1/personas", headers=owner, json={"name": "Own"})).json()
        path = f"/v1/personas/{persona['id']}"

        async def token(headers: dict[str, str], scopes: list[str]) -> dict[str, str]:
            made = await client.post(
                "/v1/tokens", headers=headers, json={"name": "t", "scopes": scopes}
            )
            assert made.status_code == 201, made.text
            return {"Authorization": f"Bearer {made.json()['token']}"}

        bare = await token(owner, [])  # the creator owns the persona; the token may do nothing
        assert (await client.get("/v1/personas", headers=bare)).json()["items"] == []
        assert (await client.get(path, headers=bare)).status_code == 404
        assert (
            await client.patch(path, headers=bare, json={"system_prompt": "x"})
        ).status_code in (
            403,
            404,
        )
        share = {"user_id": await user_id(client, owner), "role": "viewer"}
        assert (await client.post(f"{path}/members", headers=bare, json=share)).status_code in (
            403,
            404,
        )
        nudged = await client.post(f"{path}/mood", headers=bare, json={"deltas": {"dopamine": 1}})
        assert nudged.status_code in (403, 404)
        assert (await client.delete(path, headers=bare)).status_code in (403, 404)

        role = await client.post(
            "/v1/roles",
            headers=owner,
            json={"name": "token-maker", "permissions": ["tokens:create", "personas:read"]},
        )
        assert role.status_code == 201, role.text
        editor = await join(client, owner, "tok-ed@personas.example.com", "token-maker")
        shared = await client.post(
            f"{path}/members",
            headers=owner,
            json={"user_id": await user_id(client, editor), "role": "editor"},
        )
        assert shared.status_code == 201, shared.text
        reader = await token(editor, ["personas:read"])
        assert (await client.get(path, headers=reader)).status_code == 200
        refused = await client.patch(path, headers=reader, json={"system_prompt": "x"})
        assert refused.status_code == 403 and "personas:update" in refused.text
        assert (
            await client.patch(path, headers=editor, json={"description": "d"})
        ).status_code == 200
        assert (await client.get(path, headers=owner)).json()["system_prompt"] != "x"


async def test_a_live_personas_name_is_unique_in_its_tenant(
    urls: DatabaseUrls, api_client: ClientFactory, owner_password: str
) -> None:
    async with api_client(urls) as client:
        owner = await bearer(client, OWNER, owner_password)
        first = await client.post("/v1/personas", headers=owner, json={"name": "Twin"})
        second = await client.post("/v1/personas", headers=owner, json={"name": "Twin"})
        other = await client.post("/v1/personas", headers=owner, json={"name": "Other"})
        renamed = await client.patch(
            f"/v1/personas/{other.json()['id']}", headers=owner, json={"name": "Twin"}
        )
        gone = await client.delete(f"/v1/personas/{first.json()['id']}", headers=owner)
        again = await client.post("/v1/personas", headers=owner, json={"name": "Twin"})
    assert first.status_code == 201 and second.status_code == 409
    assert renamed.status_code == 409 and "Twin" in renamed.json()["detail"]
    assert gone.status_code == 204 and again.status_code == 201  # a deleted one frees it
