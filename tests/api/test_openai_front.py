"""The OpenAI-compatible front door, through the official `openai` client pointed at a real
server on 127.0.0.1: whole and streamed answers from a persona named as the model, a
person's conversation continued across requests, and unknown models refused."""

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

            with pytest.raises(openai.NotFoundError):
                await sdk.chat.completions.create(
                    model="Nobody", messages=[{"role": "user", "content": "Hi"}]
                )
            await sdk.close()
