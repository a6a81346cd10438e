"""`personae serve` as a user runs it: a fresh data directory, a restart, bad configuration."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from personae.db import migrate
from tests.serving import (
    free_port,
    postgres_without_pgvector,
    run_personae,
    serving,
    wait_healthy,
)


def test_fresh_data_dir_serves_within_15_s_then_restarts_on_the_same_data(tmp_path: Path) -> None:
    data_dir = tmp_path / "personae"
    port = free_port()
    with serving(data_dir, port) as process:
        health = wait_healthy(f"http://127.0.0.1:{port}", process, timeout_s=15)
    assert process.returncode == 0
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
