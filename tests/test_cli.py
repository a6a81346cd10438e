"""The `personae` commands other than serve, run as real processes."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx

from personae import __version__
from personae.db import migrate
from personae.db.engine import DatabaseUrls
from tests.serving import PERSONAE, clean_env, free_port, run_personae, serving, wait_healthy


def test_version() -> None:
    result = run_personae("version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"personae {__version__}"


def test_db_commands_on_the_embedded_database(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    head = migrate.head()

    result = run_personae("db", "current", *data)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"base (head {head}, migrations pending)"

    assert run_personae("db", "upgrade", *data).returncode == 0
    assert (
        run_personae("db", "current", *data).stdout.strip() == f"{head} (head {head}, up to date)"
    )

    assert run_personae("db", "downgrade", "0001", *data).returncode == 0
    assert run_personae("db", "current", *data).stdout.startswith("0001 ")

    history = run_personae("db", "history").stdout.splitlines()
    assert [line.split()[0] for line in history] == [rev for rev, _ in migrate.history()]
    assert history[0].startswith(head) and history[-1].startswith("0001")

    shell = subprocess.run(
        [*PERSONAE, "db", "shell", *data],
        input="SELECT 'shell-' || 42 AS answer;\n",
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert shell.returncode == 0, shell.stderr
    assert "shell-42" in shell.stdout


def test_serve_on_an_external_url_starts_no_server_of_its_own(
    new_database: Callable[[], DatabaseUrls], tmp_path: Path
) -> None:
    external = new_database()
    data_dir = tmp_path / "unused"
    port = free_port()
    with serving(data_dir, port, PERSONAE_DATABASE_URL=external.owner) as process:
        health = wait_healthy(f"http://127.0.0.1:{port}", process, timeout_s=15)
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
    assert health["migration"] == {"current": migrate.head(), "head": migrate.head()}
    assert ready.status_code == 200
    assert not data_dir.exists(), "an embedded server was started despite PERSONAE_DATABASE_URL"
