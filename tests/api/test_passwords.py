"""Changing a password (signed in, through the API) and resetting one (the operator, by
CLI): the old one stops working, the new one works, and earlier sign-ins end."""

from __future__ import annotations

import asyncio

import httpx

from personae.db.engine import DatabaseUrls
from personae.vault.crypto import encode_key
from tests.api.conftest import MASTER_KEY, ClientFactory, bearer
from tests.serving import PERSONAE, clean_env, printed_password

NEW = "a new password, long enough"


async def _sign_in(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post("/v1/auth/login", json={"email": email, "password": password})


async def test_a_user_changes_their_password_and_other_sign_ins_end(
    urls: DatabaseUrls, api_client: ClientFactory, fresh_owner: tuple[str, str]
) -> None:
    email, password = fresh_owner
    async with api_client(urls) as client:
        here = await bearer(client, email, password)
        elsewhere = (await _sign_in(client, email, password)).json()["refresh_token"]
        change = "/v1/me/password"
        wrong = await client.post(
            change, headers=here, json={"current_password": "nope", "new_password": NEW}
        )
        short = await client.post(
            change, headers=here, json={"current_password": password, "new_password": "short"}
        )
        changed = await client.post(
            change, headers=here, json={"current_password": password, "new_password": NEW}
        )
        old = await _sign_in(client, email, password)
        new = await _sign_in(client, email, NEW)
        still = await client.get("/v1/me", headers=here)
        ended = await client.post("/v1/auth/refresh", json={"refresh_token": elsewhere})
        audit = await client.get(
            "/v1/audit", headers=here, params={"event_type": "user.password_change"}
        )
    assert (wrong.status_code, wrong.json()["errors"][0]["field"]) == (422, "current_password")
    assert (short.status_code, short.json()["errors"][0]["field"]) == (422, "new_password")
    assert changed.status_code == 204
    assert old.status_code == 401 and new.status_code == 200
    assert still.status_code == 200  # the sign-in that changed it goes on
    assert ended.status_code == 401
    assert len(audit.json()["items"]) == 1 and NEW not in audit.text


async def test_the_operator_resets_a_password_by_cli(
    urls: DatabaseUrls, api_client: ClientFactory, fresh_owner: tuple[str, str]
) -> None:
    email, password = fresh_owner
    async with api_client(urls) as client:
        before = (await _sign_in(client, email, password)).json()["refresh_token"]
        process = await asyncio.create_subprocess_exec(
            *PERSONAE,
            "user",
            "reset-password",
            email,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=clean_env(
                PERSONAE_DATABASE_URL=urls.owner, PERSONAE_MASTER_KEY=encode_key(MASTER_KEY)
            ),
        )
        out, err = await asyncio.wait_for(process.communicate(), 120)
        assert process.returncode == 0, err.decode()
        given = printed_password(out.decode())
        old = await _sign_in(client, email, password)
        new = await _sign_in(client, email, given)
        ended = await client.post("/v1/auth/refresh", json={"refresh_token": before})
    assert old.status_code == 401 and new.status_code == 200
    assert ended.status_code == 401
