"""`personae serve` as a user runs it: a fresh data directory, a restart, bad configuration."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx

from personae.db import migrate
from tests.serving import (
    free_port,
    postgres_without_pgvector,
    run_personae,
    serving,
    tenant_on,
    wait_healthy,
)


def test_fresh_data_dir_serves_within_15_s_then_restarts_on_the_same_data(tmp_path: Path) -> None:
    data_dir = tmp_path / "personae"
    port = free_port()
    with serving(data_dir, port) as process:
        health = wait_healthy(f"http://127.0.0.1:{port}", process, timeout_s=15)
        stopping = time.monotonic()  # as the embedding model is still loading
    stopped_in = time.monotonic() - stopping
    assert process.returncode == 0
    assert stopped_in < 8, f"Ctrl-C waited {stopped_in:.1f} s for the model to load"
    assert str(health["postgres"]).startswith("18")
    assert str(health["pgvector"]).startswith("0.8")
    assert health["migration"] == {"current": migrate.head(), "head": migrate.head()}
    assert not (data_dir / "pg" / "postmaster.pid").exists(), "PostgreSQL left running"

    version_file = data_dir / "pg" / "PG_VERSION"
    initialised = version_file.stat().st_mtime_ns
    marker = data_dir / "pg" / "base"
    before = sorted(p.name for p in marker.iterdir())

    port = free_port()
    with serving(data_dir, port) as process:
        health = wait_healthy(f"http://127.0.0.1:{port}", process, timeout_s=15)
    assert process.returncode == 0
    assert version_file.stat().st_mtime_ns == initialised, "the cluster was initialised again"
    assert sorted(p.name for p in marker.iterdir()) == before, "databases changed on restart"
    assert health["migration"] == {"current": migrate.head(), "head": migrate.head()}


def test_serve_warns_loudly_when_tools_are_not_isolated(tmp_path: Path) -> None:
    port, log = free_port(), tmp_path / "serve.log"
    weaker = {"PERSONAE_TOOL_SANDBOX": "process", "PERSONAE_EMBEDDER": "hashing"}
    with serving(tmp_path / "personae", port, log_to=log, **weaker) as process:
        wait_healthy(f"http://127.0.0.1:{port}", process, timeout_s=30)
    said = log.read_text()
    assert "WARNING: PERSONAE_TOOL_SANDBOX=process: python tools are NOT isolated" in said
    assert ("WARNING: personae serve runs as root" in said) == (os.geteuid() == 0)


def _assert_one_line(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_unreachable_database_url_is_one_line_with_the_fix() -> None:
    port = free_port()
    result = run_personae(
        "serve", PERSONAE_DATABASE_URL=f"postgresql://someone:pw@127.0.0.1:{port}/personae"
    )
    _assert_one_line(
        result, f"cannot reach PostgreSQL at 127.0.0.1:{port}/personae", "PERSONAE_DATABASE_URL"
    )
    assert "pw" not in result.stderr


def test_a_url_that_is_not_postgres_is_refused() -> None:
    result = run_personae("serve", PERSONAE_DATABASE_URL="mysql://root@localhost/x")
    _assert_one_line(result, "not PostgreSQL", "postgresql://")


def test_unwritable_data_dir_is_one_line_with_the_fix(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = run_personae("serve", "--data-dir", str(blocker / "data"))
    _assert_one_line(result, "is not writable", "--data-dir")


def test_server_without_pgvector_is_one_line_with_the_fix() -> None:
    with postgres_without_pgvector() as url:
        result = run_personae("serve", PERSONAE_DATABASE_URL=url)
        _assert_one_line(result, "has no pgvector extension", "install pgvector")


def _sign_in(base: str, data_dir: Path) -> dict[str, str]:
    password = tenant_on(data_dir, "Stops", "stop@example.com")
    login = httpx.post(
        f"{base}/v1/auth/login", json={"email": "stop@example.com", "password": password}
    )
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


def test_sigterm_closes_streams_and_stops_the_database(tmp_path: Path) -> None:
    data_dir, port = tmp_path / "personae", free_port()
    base = f"http://127.0.0.1:{port}"
    hashing = {"PERSONAE_EMBEDDER": "hashing", "PERSONAE_SSE_HEARTBEAT_S": "60"}
    with serving(data_dir, port, **hashing) as process:
        wait_healthy(base, process, timeout_s=30)
        auth = _sign_in(base, data_dir)
        session = httpx.post(f"{base}/v1/sessions", headers=auth, json={}).json()
        received: list[str] = []

        def listen() -> None:
            with httpx.stream(
                "GET", f"{base}/v1/sessions/{session['id']}/stream", headers=auth, timeout=60
            ) as stream:
                received.extend(stream.iter_lines())

        listener = threading.Thread(target=listen)
        listener.start()
        deadline = time.monotonic() + 10
        while not received and time.monotonic() < deadline:
            time.sleep(0.05)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
        stopped_in = time.monotonic() - started
        listener.join(timeout=5)
    assert process.returncode == 0
    assert stopped_in < 10  # the open stream did not hold the shutdown up
    assert received[0] == ": connected"
    assert any("server is stopping" in line for line in received)
    assert not (data_dir / "pg" / "postmaster.pid").exists(), "PostgreSQL left running"


def test_a_killed_server_does_not_keep_the_next_from_stopping_the_database(
    tmp_path: Path,
) -> None:
    data_dir, port = tmp_path / "personae", free_port()
    hashing = {"PERSONAE_EMBEDDER": "hashing"}
    with serving(data_dir, port, **hashing) as process:
        wait_healthy(f"http://127.0.0.1:{port}", process, timeout_s=30)
        process.kill()  # its PostgreSQL lives on, its handle left behind
        process.wait()
    assert (data_dir / "pg" / "postmaster.pid").exists()
    port = free_port()
    with serving(data_dir, port, **hashing) as process:
        wait_healthy(f"http://127.0.0.1:{port}", process, timeout_s=30)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    assert process.returncode == 0
    assert not (data_dir / "pg" / "postmaster.pid").exists(), "PostgreSQL left running"


def test_while_the_database_is_down_requests_get_503_and_one_log_line(tmp_path: Path) -> None:
    data_dir, port, log = tmp_path / "personae", free_port(), tmp_path / "serve.log"
    base = f"http://127.0.0.1:{port}"
    with serving(data_dir, port, log_to=log, PERSONAE_EMBEDDER="hashing") as process:
        wait_healthy(base, process, timeout_s=30)
        auth = _sign_in(base, data_dir)
        assert httpx.get(f"{base}/v1/sessions", headers=auth).status_code == 200
        postmaster = int((data_dir / "pg" / "postmaster.pid").read_text().split()[0])
        os.kill(postmaster, signal.SIGINT)  # a fast shutdown, as an operator's would be
        while (data_dir / "pg" / "postmaster.pid").exists():
            time.sleep(0.05)
        answers = [httpx.get(f"{base}/v1/sessions", headers=auth) for _ in range(20)]
        answers.append(
            httpx.post(f"{base}/v1/auth/login", json={"email": "a@example.com", "password": "p"})
        )
        back = run_personae("db", "current", "--data-dir", str(data_dir))  # starts it again
        assert back.returncode == 0, back.stderr
        again = httpx.get(f"{base}/v1/sessions", headers=auth)
    said = log.read_text()
    assert {a.status_code for a in answers} == {503}
    assert all(a.headers["content-type"] == "application/problem+json" for a in answers)
    assert all(int(a.headers["retry-after"]) > 0 for a in answers)
    assert again.status_code == 200
    assert said.count("database unreachable") == 1, said[-3000:]
    assert said.count("database reachable again") == 1
    assert "Traceback" not in said, said
