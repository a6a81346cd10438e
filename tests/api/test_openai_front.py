"""The OpenAI-compatible front door, through the official `openai` client pointed at a real
server on 127.0.0.1: whole and streamed answers from a persona named as the model, a
person's conversation continued across requests, an agent named as the model speaking
for its persona, and unknown models refused."""

from __future__ import annotations

import openai
import pytest

from personae.db.engine import DatabaseUrls
from tests.api.conftest import bearer
from tests.api.test_turns import persona_with_models, post, served
from tests.scripted_openai import Script

SCOPES = [
    "sessions:create",
    "sessions:read",
    "sessions:update",
    "memory:read",
    "documents:read",
    "tools:read",
    "tools:execute",
    "personas:read",
    "agents:read",
]


async def test_openai_clients_talk_to_a_persona(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    script = Script(replies=["Ahoy from the harbour.", "You asked about boats before."])
    async with served(urls) as client:
        auth = await bearer(client, *fresh_owner)
        token = (await post(client, auth, "/v1/tokens", name="front door", scopes=SCOPES))["token"]
        async with persona_with_models(client, auth, script):
            sdk = openai.AsyncOpenAI(
                base_url=str(client.base_url).rstrip("/") + "/openai/v1",
                api_key=token,
                max_retries=0,
            )
            answer = await sdk.chat.completions.create(
                model="Harbour guide", messages=[{"role": "user", "content": "Hello?"}]
            )
            assert answer.choices[0].message.content == "Ahoy from the harbour."
            assert answer.usage is not None and answer.usage.completion_tokens == 4

            script.replies = ["Boats come and go all day."]
            pieces = []
            stream = await sdk.chat.completions.create(
                model="Harbour guide",
                messages=[{"role": "user", "content": "Tell me about boats."}],
                stream=True,
                stream_options={"include_usage": True},
                user="alice",
            )
            async for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    pieces.append(chunk.choices[0].delta.content)
            assert "".join(pieces) == "Boats come and go all day." and len(pieces) == 6

            script.replies = ["You asked about boats before."]
            again = await sdk.chat.completions.with_raw_response.create(
                model="Harbour guide",
                messages=[{"role": "user", "content": "What did I ask?"}],
                user="alice",
            )
            assert again.parse().choices[0].message.content == "You asked about boats before."
            sent = script.chat_requests[-1]["messages"]
            assert [m["content"] for m in sent[1:]] == [
                "Tell me about boats.",
                "Boats come and go all day.",
                "What did I ask?",
            ]  # alice's session remembered, the first (anonymous) request not mixed in

            # an agent named as the model speaks for its persona, with its own prompt
            persona = (await client.get("/v1/personas", headers=auth)).json()["items"][0]
            await post(
                client,
                auth,
                "/v1/agents",
                name="night-clerk",
                persona_id=persona["id"],
                system_prompt_override="You are the night clerk.",
            )
            script.replies = ["The night clerk here."]
            clerk = await sdk.chat.completions.create(
                model="night-clerk", messages=[{"role": "user", "content": "Who is there?"}]
            )
            assert clerk.choices[0].message.content == "The night clerk here."
            assert script.chat_requests[-1]["messages"][0]["content"] == "You are the night clerk."
            listed = [model.id async for model in sdk.models.list()]
            assert listed == ["Harbour guide", "night-clerk"]
            one = await sdk.models.retrieve("Harbour guide")
            assert (one.id, one.owned_by) == ("Harbour guide", "persona")
            with pytest.raises(openai.NotFoundError, match="no persona or agent"):
                await sdk.models.retrieve("Nobody")
            await post(client, auth, "/v1/agents", name="drifter")  # of no persona
            with pytest.raises(openai.ConflictError, match="belongs to no persona"):
                await sdk.chat.completions.create(
                    model="drifter", messages=[{"role": "user", "content": "Hi"}]
                )

            with pytest.raises(openai.NotFoundError, match="no persona or agent is called"):
                await sdk.chat.completions.create(
                    model="Nobody", messages=[{"role": "user", "content": "Hi"}]
                )
            with pytest.raises(openai.BadRequestError) as refused:
                await sdk.chat.completions.create(model="Harbour guide", messages=[])
            assert refused.value.param == "messages"  # the field at fault, as OpenAI names it
            stranger = openai.AsyncOpenAI(
                base_url=sdk.base_url, api_key="pat_not-a-token", max_retries=0
            )
            with pytest.raises(openai.AuthenticationError, match=r"Error code: 401 - .+"):
                await stranger.chat.completions.create(
                    model="Harbour guide", messages=[{"role": "user", "content": "Hi"}]
                )
            await stranger.close()
            outside = await client.post(  # the API's own problems stay as they were
                "/v1/personas", headers=auth, json={"name": ""}
            )
            assert "error" not in outside.json() and outside.json()["errors"][0]["field"] == "name"
            await sdk.close()


async def test_a_token_lacking_a_turns_scopes_is_refused_with_403_naming_them(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    script = Script(replies=["Never said."])
    async with served(urls) as client:
        auth = await bearer(client, *fresh_owner)
        scopes = [s for s in SCOPES if s not in ("memory:read", "personas:read")]
        token = (await post(client, auth, "/v1/tokens", name="narrow", scopes=scopes))["token"]
        async with persona_with_models(client, auth, script):
            sdk = openai.AsyncOpenAI(
                base_url=str(client.base_url).rstrip("/") + "/openai/v1", api_key=token
            )  # the SDK's own retries on: a 403 must not be retried
            with pytest.raises(openai.PermissionDeniedError, match="lacks memory:read"):
                await sdk.chat.completions.create(
                    model="Harbour guide", messages=[{"role": "user", "content": "Hello?"}]
                )
            assert [model.id async for model in sdk.models.list()] == []  # no personas:read
            await sdk.close()
        assert script.chat_requests == []
        sessions = (await client.get("/v1/sessions", headers=auth)).json()["items"]
        assert [s["channel"] for s in sessions if s["channel"] == "openai"] == []  # none written
