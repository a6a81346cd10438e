"""The README's quick start, as a new user follows it: serve, make a tenant, sign in, a
persona on the built-in offline `echo` model, and a streamed turn, with no model key."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.serving import free_port, serving, tenant_on, wait_healthy


def test_a_first_streamed_turn_needs_no_model_key(tmp_path: Path) -> None:
    data_dir, port = tmp_path / "personae", free_port()
    base = f"http://127.0.0.1:{port}"
    with serving(data_dir, port, PERSONAE_EMBEDDER="hashing") as process:
        wait_healthy(base, process, timeout_s=30)
        password = tenant_on(data_dir, "Acme", "you@example.com")
        with httpx.Client(base_url=base, timeout=30) as client:
            login = client.post(
                "/v1/auth/login", json={"email": "you@example.com", "password": password}
            )
            auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
            model = client.post(
                "/v1/model-configs",
                headers=auth,
                json={"name": "demo", "provider": "echo", "model_name": "echo"},
            )
            assert model.status_code == 201, model.text
            persona = client.post(
                "/v1/personas",
                headers=auth,
                json={"name": "Guide", "system_prompt": "Be brief.", "default_provider": "demo"},
            ).json()
            session = client.post(
                "/v1/sessions", headers=auth, json={"persona_id": persona["id"]}
            ).json()
            events = []
            with client.stream(
                "POST",
                f"/v1/sessions/{session['id']}/messages",
                headers=auth,
                json={"content": "Hello there", "stream": True},
            ) as answer:
                assert answer.status_code == 200
                name = None
                for line in answer.iter_lines():
                    if line.startswith("event: "):
                        name = line.removeprefix("event: ")
                    elif line.startswith("data: "):
                        events.append((name, json.loads(line.removeprefix("data: "))))
    names = [name for name, _ in events]
    tokens = "".join(data["text"] for name, data in events if name == "token")
    assert names[0] == "run.started" and names[-1] == "run.completed"
    assert names.count("token") > 5  # streamed, word by word
    assert tokens.startswith("[echo model, no language model] You said: Hello there")
    assert events[-1][1]["content"] == tokens
