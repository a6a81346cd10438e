"""Teams and their members: names unique among live teams, members from the tenant only."""

from __future__ import annotations

from personae.db.engine import DatabaseUrls
from tests.api.conftest import ClientFactory, bearer, join, user_id

OWNER = "lead@teams.example.com"


async def test_teams_and_members(
    urls: DatabaseUrls, api_client: ClientFactory, owner_password: str
) -> None:
    async with api_client(urls) as client:
        owner = await bearer(client, OWNER, owner_password)
        viewer = await join(client, owner, "val@teams.example.com", "viewer")

        made = await client.post("/v1/teams", headers=owner, json={"name": "Support"})
        assert made.status_code == 201, made.text
        team = made.json()
        assert team["name"] == "Support" and team["description"] is None
        again = await client.post("/v1/teams", headers=owner, json={"name": "Support"})
        assert again.status_code == 409
        blank = await client.post("/v1/teams", headers=owner, json={"name": ""})
        assert blank.status_code == 422 and blank.json()["errors"][0]["field"] == "name"
        nulled = await client.post("/v1/teams", headers=owner, json={"name": None})
        assert nulled.status_code == 422

        refused = await client.post("/v1/teams", headers=viewer, json={"name": "Ops"})
        assert refused.status_code == 403
        listed = await client.get("/v1/teams", headers=viewer)
        assert [t["name"] for t in listed.json()["items"]] == ["Support"]

        members = f"/v1/teams/{team['id']}/members"
        viewer_id = await user_id(client, viewer)
        stranger = await client.post(
            members, headers=owner, json={"user_id": "00000000-0000-7000-8000-000000000000"}
        )
        assert stranger.status_code == 422 and stranger.json()["errors"][0]["field"] == "user_id"
        added = await client.post(members, headers=owner, json={"user_id": viewer_id})
        assert added.status_code == 201 and added.json()["role"] == "member"
        twice = await client.post(members, headers=owner, json={"user_id": viewer_id})
        assert twice.status_code == 409
        bad_role = await client.patch(
            f"{members}/{added.json()['id']}", headers=owner, json={"role": "boss"}
        )
        assert bad_role.status_code == 422
        promoted = await client.patch(
            f"{members}/{added.json()['id']}", headers=owner, json={"role": "lead"}
        )
        assert promoted.json()["role"] == "lead"

        renamed = await client.patch(
            f"/v1/teams/{team['id']}", headers=owner, json={"description": "Front line"}
        )
        assert renamed.json()["description"] == "Front line"
        assert renamed.json()["updated_at"] >= team["updated_at"]

        assert (await client.delete(f"/v1/teams/{team['id']}", headers=owner)).status_code == 204
        assert (await client.get(f"/v1/teams/{team['id']}", headers=owner)).status_code == 404
        assert (await client.get(members, headers=owner)).status_code == 404
        reused = await client.post("/v1/teams", headers=owner, json={"name": "Support"})
        assert reused.status_code == 201  # the name is free once the team is deleted


async def test_pages_continue_where_they_stopped(
    urls: DatabaseUrls, api_client: ClientFactory, owner_password: str
) -> None:
    async with api_client(urls) as client:
        owner = await bearer(client, OWNER, owner_password)
        names = [f"page-{i}" for i in range(5)]
        for name in names:
            assert (await client.post("/v1/teams", headers=owner, json={"name": name})).is_success
        seen: list[str] = []
        after = None
        while True:
            params = {"limit": 2} | ({"after": after} if after else {})
            page = (await client.get("/v1/teams", headers=owner, params=params)).json()
            seen += [t["name"] for t in page["items"]]
            after = page["next_cursor"]
            if after is None:
                break
        assert [n for n in seen if n.startswith("page-")] == names
