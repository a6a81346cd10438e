"""Schemathesis against a real `personae serve` on 127.0.0.1: generated requests to every
route (bounded number of examples), signed in as an owner; no answer may be a 5xx."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok

from tests.serving import free_port, serving, tenant_on, wait_healthy

EMAIL = "fuzz@example.com"
EXAMPLES = 20


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    data_dir = Path(tmp_path_factory.mktemp("fuzz")) / "data"
    password = tenant_on(data_dir, "Fuzz", EMAIL)
    port = free_port()
    limits = {
        "PERSONAE_LOGIN_ATTEMPTS_PER_PAIR": "100000",
        "PERSONAE_LOGIN_ATTEMPTS_PER_PAIR_HOURLY": "100000",
        "PERSONAE_LOGIN_ATTEMPTS_PER_IP": "100000",
        "PERSONAE_EMBEDDER": "hashing",  # fuzzing the routes, not the model: keep it quick
    }
    with serving(data_dir, port, **limits) as process:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, process, timeout_s=30)
        login = httpx.post(f"{base}/v1/auth/login", json={"email": EMAIL, "password": password})
        assert login.status_code == 200, login.text
        yield base, {"Authorization": f"Bearer {login.json()['access_token']}"}
        assert process.poll() is None, "the server died during fuzzing"
    assert isinstance(process, subprocess.Popen)


def test_no_route_answers_5xx(server: tuple[str, dict[str, str]]) -> None:
    base, headers = server
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    tried = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()
        if operation.path == "/v1/auth/logout":
            continue  # it would end the session the other calls use

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
        def run(case: schemathesis.Case[Any]) -> None:
            case.call_and_validate(base_url=base, headers=headers, checks=[not_a_server_error])

        run()
        tried.append(f"{operation.method.upper()} {operation.path}")
    assert len(tried) >= 25, tried
