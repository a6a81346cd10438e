"""The people of one application, through one token and one persona at the front door: each
is a customer profile, and a turn recalls only that person's memories (the leak of a locker
code from one user's conversation into another's prompt must not happen again); a request
without `user` recalls the persona's memories of everyone, as documented."""

from __future__ import annotations

from typing import Any

import httpx

from personae.db.engine import DatabaseUrls
from tests.api.conftest import bearer
from tests.api.test_documents import drain
from tests.api.test_turns import persona_with_models, post, served_app
from tests.scripted_openai import Script

SECRET = "7741-PLUTO"


async def ask(
    client: httpx.AsyncClient, token: str, text: str, *, user: str | None = None, **headers: str
) -> httpx.Response:
    body: dict[str, Any] = {
        "model": "Harbour guide",
        "messages": [{"role": "user", "content": text}],
    }
    if user is not None:
        body["user"] = user
    answered = await client.post(
        "/openai/v1/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {token}", **headers},
    )
    assert answered.status_code == 200, answered.text
    return answered


def prompt_of(script: Script) -> str:
    """Everything the model was last sent, as one text."""
    return "\n".join(str(m.get("content")) for m in script.chat_requests[-1]["messages"])


async def test_one_end_user_never_recalls_another_ones_memories(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    script = Script(replies=["Noted."])
    async with served_app(urls) as (app, client):
        auth = await bearer(client, *fresh_owner)
        token = (await post(client, auth, "/v1/tokens", name="app", scopes=["openai:chat"]))[
            "token"
        ]
        async with persona_with_models(client, auth, script):
            told = await ask(client, token, f"My locker code is {SECRET}.", user="bob")
            bobs_session = told.headers["X-Personae-Session"]
            await ask(client, token, "I like the blue ferries.", **{"X-Personae-User": "carol"})
            await drain(app)  # the turns are remembered

            await ask(client, token, "What is my locker code?", user="carol")
            assert SECRET not in prompt_of(script)
            assert "blue ferries" in prompt_of(script)  # carol's own memory is there

            closed = await client.patch(
                f"/v1/sessions/{bobs_session}", headers=auth, json={"status": "CLOSED"}
            )
            assert closed.status_code == 200, closed.text
            again = await ask(client, token, "What is my locker code?", user="bob")
            assert again.headers["X-Personae-Session"] != bobs_session  # a new session
            assert SECRET in prompt_of(script)  # recalled from bob's memories, for bob
            assert "blue ferries" not in prompt_of(script)

            await ask(client, token, "What is the locker code?")  # nobody in particular
            assert SECRET in prompt_of(script)  # the persona's memories of everyone

            sessions = (await client.get("/v1/sessions", headers=auth)).json()["items"]
            customers = {s["customer_profile_id"] for s in sessions if s["user_channel_id"]}
            assert len(customers) == 2 and None not in customers  # bob and carol, once each

            # a native session of carol's recalls as the front door does
            carols = next(s for s in sessions if (s["user_channel_id"] or "").endswith(":carol"))
            native = await post(
                client,
                auth,
                "/v1/sessions",
                persona_id=carols["persona_id"],
                customer_profile_id=carols["customer_profile_id"],
            )
            await post(
                client, auth, f"/v1/sessions/{native['id']}/messages", content="My locker code?"
            )
            assert SECRET not in prompt_of(script)


async def test_a_session_named_for_one_person_is_refused_to_another(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    async with served_app(urls) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        token = (await post(client, auth, "/v1/tokens", name="app", scopes=["openai:chat"]))[
            "token"
        ]
        async with persona_with_models(client, auth, Script(replies=["Hello."])):
            bobs = (await ask(client, token, "Hi", user="bob")).headers["X-Personae-Session"]
            stolen = await client.post(
                "/openai/v1/chat/completions",
                json={"model": "Harbour guide", "messages": [{"role": "user", "content": "Hi"}]},
                headers={
                    "Authorization": f"Bearer {token}",
                    "X-Personae-Session": bobs,
                    "X-Personae-User": "mallory",
                },
            )
            assert stolen.status_code == 400, stolen.text
            assert stolen.json()["error"]["param"] == "user"
            both = await client.post(
                "/openai/v1/chat/completions",
                json={
                    "model": "Harbour guide",
                    "messages": [{"role": "user", "content": "Hi"}],
                    "user": "bob",
                },
                headers={"Authorization": f"Bearer {token}", "X-Personae-User": "carol"},
            )
            assert both.status_code == 400 and both.json()["error"]["param"] == "user"
