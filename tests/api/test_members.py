"""Role checks per route: a viewer cannot mutate, a member cannot manage members, a custom
role with one permission gets exactly that; invitations are single-use; grants are bounded."""

from __future__ import annotations

from personae.db.engine import DatabaseUrls
from personae.kernel.permissions import BUILTIN_ROLES
from tests.api.conftest import PASSWORD, ClientFactory, bearer, join

OWNER = "boss@roles.example.com"


async def test_viewer_member_and_custom_role(
    urls: DatabaseUrls, api_client: ClientFactory, owner_password: str
) -> None:
    async with api_client(urls) as client:
        owner = await bearer(client, OWNER, owner_password)
        viewer = await join(client, owner, "vera@roles.example.com", "viewer")
        member = await join(client, owner, "mo@roles.example.com", "member")

        assert (await client.get("/v1/members", headers=viewer)).status_code == 200
        for method, path, body in [
            ("PUT", "/v1/secrets", {"key_name": "k", "value": "v"}),
            ("POST", "/v1/tokens", {"name": "t", "scopes": []}),
            ("POST", "/v1/roles", {"name": "x", "permissions": []}),
        ]:
            refused = await client.request(method, path, headers=viewer, json=body)
            assert refused.status_code == 403, (method, path, refused.text)

        assert (
            await client.put("/v1/secrets", headers=member, json={"key_name": "k", "value": "v"})
        ).status_code == 200
        mo_id = next(
            m["user_id"]
            for m in (await client.get("/v1/members", headers=owner)).json()
            if m["email"] == "mo@roles.example.com"
        )
        assert (
            await client.put(
                f"/v1/members/{mo_id}/roles", headers=member, json={"roles": ["admin"]}
            )
        ).status_code == 403
        assert (
            await client.post(
                "/v1/invitations", headers=member, json={"email": "z@x.io", "role": "viewer"}
            )
        ).status_code == 403

        role = await client.post(
            "/v1/roles", headers=owner, json={"name": "auditor", "permissions": ["audit:read"]}
        )
        assert role.status_code == 201
        auditor = await join(client, owner, "audrey@roles.example.com", "auditor")
        me = await client.get("/v1/me", headers=auditor)
        assert me.json()["permissions"] == ["audit:read"]
        assert (await client.get("/v1/audit", headers=auditor)).status_code == 200
        assert (await client.get("/v1/members", headers=auditor)).status_code == 403

        await client.put(f"/v1/members/{mo_id}/roles", headers=owner, json={"roles": ["viewer"]})
        demoted = await client.get("/v1/me", headers=member)  # takes effect at once
        assert set(demoted.json()["permissions"]) == BUILTIN_ROLES["viewer"]


async def test_invitations_are_single_use_and_new_accounts_need_a_password(
    urls: DatabaseUrls, api_client: ClientFactory, owner_password: str
) -> None:
    async with api_client(urls) as client:
        owner = await bearer(client, OWNER, owner_password)
        invitation = await client.post(
            "/v1/invitations",
            headers=owner,
            json={"email": "nia@roles.example.com", "role": "member"},
        )
        token = invitation.json()["token"]
        no_password = await client.post("/v1/invitations/accept", json={"token": token})
        first = await client.post(
            "/v1/invitations/accept", json={"token": token, "password": PASSWORD}
        )
        second = await client.post(
            "/v1/invitations/accept", json={"token": token, "password": PASSWORD}
        )
        forged = await client.post("/v1/invitations/accept", json={"token": token[:-4] + "AAAA"})
    assert no_password.status_code == 422
    assert no_password.json()["errors"][0]["field"] == "password"
    assert first.status_code == 200
    assert second.status_code == 401 and forged.status_code == 401


async def test_grants_are_bounded_and_the_last_owner_stays(
    urls: DatabaseUrls, api_client: ClientFactory, owner_password: str
) -> None:
    async with api_client(urls) as client:
        owner = await bearer(client, OWNER, owner_password)
        admin = await join(client, owner, "ada@roles.example.com", "admin")
        people = (await client.get("/v1/members", headers=owner)).json()
        boss_id = next(m["user_id"] for m in people if m["email"] == OWNER)
        ada_id = next(m["user_id"] for m in people if m["email"] == "ada@roles.example.com")
        to_owner = await client.put(
            f"/v1/members/{ada_id}/roles", headers=admin, json={"roles": ["owner"]}
        )
        demote_boss = await client.put(
            f"/v1/members/{boss_id}/roles", headers=owner, json={"roles": ["admin"]}
        )
        unknown = await client.post(
            "/v1/roles", headers=owner, json={"name": "odd", "permissions": ["nope:never"]}
        )
        duplicate = await client.post(
            "/v1/roles", headers=owner, json={"name": "viewer", "permissions": []}
        )
    assert to_owner.status_code == 422 and "tenant:delete" in to_owner.json()["detail"]
    assert demote_boss.status_code == 409
    assert unknown.status_code == 422 and duplicate.status_code == 409


async def test_an_invitation_to_an_existing_account_needs_that_account_signed_in(
    urls: DatabaseUrls,
    api_client: ClientFactory,
    owner_password: str,
    fresh_owner: tuple[str, str],
) -> None:
    victim_email, victim_password = fresh_owner  # owns a tenant of their own
    async with api_client(urls) as client:
        inviter = await bearer(client, OWNER, owner_password)
        victim = await bearer(client, victim_email, victim_password)
        home = (await client.get("/v1/me", headers=victim)).json()["tenant_id"]
        invitation = await client.post(
            "/v1/invitations", headers=inviter, json={"email": victim_email, "role": "viewer"}
        )
        token = invitation.json()["token"]
        someone = await join(client, inviter, "someone@roles.example.com", "viewer")
        attempts = [
            await client.post("/v1/invitations/accept", json={"token": token}),
            await client.post(
                "/v1/invitations/accept", json={"token": token, "password": "new password 123"}
            ),
            await client.post("/v1/invitations/accept", headers=someone, json={"token": token}),
        ]
        assert attempts[0].status_code == 422  # as for an email with no account
        for refused in attempts[1:]:
            assert refused.status_code == 401, refused.text
        members = (await client.get("/v1/members", headers=inviter)).json()
        assert victim_email not in {m["email"] for m in members}

        accepted = await client.post(
            "/v1/invitations/accept", headers=victim, json={"token": token}
        )
        assert accepted.status_code == 200, accepted.text
        again = await bearer(client, victim_email, victim_password)  # no tenant named
        assert (await client.get("/v1/me", headers=again)).json()["tenant_id"] == home
