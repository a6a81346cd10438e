"""`personae chat`, run as a real process against the test database: it finds the persona
by name, streams the answer of its (scripted) model, and ends on an empty line."""

from __future__ import annotations

import asyncio

from personae.db.engine import DatabaseUrls
from personae.vault.crypto import encode_key
from tests.api.conftest import MASTER_KEY, bearer, running_app
from tests.api.test_turns import SETTINGS, persona_with_models
from tests.scripted_openai import Script
from tests.serving import PERSONAE, clean_env


async def test_personae_chat_streams_a_personas_answer(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    script = Script(replies=["The ferry leaves at nine."], stream_delay_s=0.01)
    async with running_app(urls, SETTINGS) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        tenant = (await client.get("/v1/me", headers=auth)).json()["tenant_id"]
        async with persona_with_models(client, auth, script):
            env = clean_env(
                PERSONAE_DATABASE_URL=urls.owner,
                PERSONAE_MASTER_KEY=encode_key(MASTER_KEY),
                PERSONAE_EMBEDDER="hashing",
            )
            process = await asyncio.create_subprocess_exec(
                *PERSONAE,
                "chat",
                "Harbour guide",
                "--tenant",
                tenant,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=env,
            )
            out, err = await asyncio.wait_for(
                process.communicate(b"When does the ferry leave?\n\n"), 120
            )
    assert process.returncode == 0, err.decode()
    shown = out.decode()
    assert "Harbour guide (session " in shown
    assert "The ferry leaves at nine." in shown
    assert script.chat_requests[0]["stream"] is True
    assert script.chat_requests[0]["messages"][-1]["content"] == "When does the ferry leave?"
