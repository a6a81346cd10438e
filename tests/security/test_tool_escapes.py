"""A hostile tenant admin against a real `personae serve`: python tools that try to escape.

Each attack is a tool tenant A's owner writes and runs through the API, the way the
outside test that found the old sandbox's escapes did it. Every one must be refused, the
server must stay up and healthy, and tenant B's data must be as it was."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.serving import free_port, run_personae, serving, wait_healthy

READS = """
def main(paths):
    found = {}
    for path in paths:
        try:
            with open(path, 'rb') as file:
                found[path] = 'READ ' + file.read(64).hex()
        except Exception as error:
            found[path] = type(error).__name__
    return found
"""
LISTS = """
import os
def main(paths):
    found = {}
    for path in paths:
        try:
            found[path] = os.listdir(path)
        except Exception as error:
            found[path] = type(error).__name__
    return found
"""
CONNECTS = """
import socket
def main(socket_path, port):
    found = {}
    try:
        unix = socket.socket(socket.AF_UNIX)
        unix.connect(socket_path)
        found['database socket'] = 'CONNECTED'
    except Exception as error:
        found['database socket'] = type(error).__name__
    for name, address in (('api', ('127.0.0.1', port)), ('database tcp', ('127.0.0.1', 5432))):
        try:
            socket.create_connection(address, timeout=2)
            found[name] = 'CONNECTED'
        except Exception as error:
            found[name] = type(error).__name__
    return found
"""
SIGNALS = """
import os, signal
def main(pids):
    found = {}
    for pid in pids + [-1]:
        try:
            os.kill(pid, signal.SIGKILL)
            found[str(pid)] = 'SENT'
        except Exception as error:
            found[str(pid)] = type(error).__name__
    return found
"""
FORK_BOMB = """
import os
def main():
    children = 0
    while True:
        os.fork()
        children += 1
"""
LINGERS = """
import os, subprocess, sys
def main(marker):
    subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)', marker],
                     start_new_session=True)
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(120)', marker])
        os._exit(0)
    return 'left behind'
"""
WRITES = """
import os
def main(paths, marker):
    found = {}
    for path in paths:
        try:
            with open(path, 'wb') as file:
                file.write(b'x' * 2**20)
            found[path] = 'WROTE'
        except Exception as error:
            found[path] = type(error).__name__
    with open('/tmp/' + marker, 'wb') as file:
        file.write(b'mine')
    return found
"""
TAMPERS = """
import ctypes, gc, os, re
def main(server_pid):
    # the old escape: find the audit hook's refusals through gc and empty them
    emptied = 0
    for thing in gc.get_objects():
        if isinstance(thing, set) and 'os.fork' in thing:
            thing.clear()
            emptied += 1
    libc = ctypes.CDLL(None, use_errno=True)
    found = {'emptied': emptied}
    def call(name, *args):
        result = getattr(libc, name)(*args)
        found[name] = 'OK' if result == 0 else os.strerror(ctypes.get_errno())
    try:
        namespace = os.open(f'/proc/{server_pid}/ns/net', os.O_RDONLY)
        call('setns', namespace, 0)
    except OSError as error:
        found['setns'] = type(error).__name__
    call('unshare', 0x10000000 | 0x40000000)   # a user and network namespace
    call('ptrace', 0, 0, 0, 0)                  # PTRACE_TRACEME
    call('mount', b'none', b'/tmp', b'tmpfs', 0, None)
    try:
        os.setuid(0)
        found['setuid'] = 'OK'
    except OSError as error:
        found['setuid'] = type(error).__name__
    status = open('/proc/self/status').read()
    found['seccomp'] = re.search(r'Seccomp:\\s+(\\d)', status).group(1)
    found['no_new_privs'] = re.search(r'NoNewPrivs:\\s+(\\d)', status).group(1)
    found['uid'] = os.getuid()
    return found
"""
ATTACKS = {
    "reads": READS,
    "lists": LISTS,
    "connects": CONNECTS,
    "signals": SIGNALS,
    "fork_bomb": FORK_BOMB,
    "lingers": LINGERS,
    "writes": WRITES,
    "tampers": TAMPERS,
}


@dataclass
class Installation:
    url: str
    data_dir: Path
    port: int
    server: Any
    attacker: dict[str, str]
    victim: dict[str, str]
    victim_secret: str


def _sign_in(url: str, data_dir: Path, name: str) -> dict[str, str]:
    email = f"{name.lower()}-{uuid.uuid4().hex[:6]}@example.com"
    made = run_personae(
        "tenant", "create", name, "--owner-email", email, "--data-dir", str(data_dir)
    )
    assert made.returncode == 0, made.stderr
    password = re.search(r"password: (\S+)", made.stdout)
    assert password, made.stdout
    signed = httpx.post(f"{url}/v1/auth/login", json={"email": email, "password": password[1]})
    assert signed.status_code == 200, signed.text
    return {"Authorization": f"Bearer {signed.json()['access_token']}"}


@pytest.fixture(scope="module")
def installation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installation]:
    data_dir = tmp_path_factory.mktemp("attacked") / "personae"
    port = free_port()
    with serving(
        data_dir, port, PERSONAE_TOOL_SANDBOX_WALL_S="5", PERSONAE_EMBEDDER="hashing"
    ) as server:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, server, timeout_s=60)
        attacker, victim = _sign_in(url, data_dir, "Mallory"), _sign_in(url, data_dir, "Victor")
        secret = f"sk-victim-{uuid.uuid4().hex}"
        kept = httpx.put(
            f"{url}/v1/secrets",
            headers=victim,
            json={"key_name": "provider_key", "value": secret, "secret_type": "llm_provider_key"},
        )
        assert kept.status_code == 200, kept.text
        for name, code in ATTACKS.items():
            tool = {"name": name, "description": f"{name}.", "code_type": "python", "code": code}
            made = httpx.post(
                f"{url}/v1/tools", headers=attacker, json={**tool, "schema": {"type": "object"}}
            )
            assert made.status_code == 201, made.text
        yield Installation(url, data_dir, port, server, attacker, victim, secret)
        assert server.poll() is None, "the server died"
        assert httpx.get(f"{url}/healthz").status_code == 200
        secrets = httpx.get(f"{url}/v1/secrets", headers=victim).json()
        secret_id = next(s["id"] for s in secrets if s["key_name"] == "provider_key")
        shown = httpx.post(f"{url}/v1/secrets/{secret_id}/reveal", headers=victim)
        assert shown.json()["value"] == secret, "the other tenant's secret changed"


def attack(place: Installation, name: str, **arguments: Any) -> dict[str, Any]:
    done = httpx.post(
        f"{place.url}/v1/tools/{name}/execute",
        headers=place.attacker,
        json={"arguments": arguments},
        timeout=60,
    )
    assert done.status_code == 200, done.text
    return dict(done.json())


def _postgres_pid(place: Installation) -> int:
    return int((place.data_dir / "pg" / "postmaster.pid").read_text().split()[0])


def test_secrets_and_the_database_files_are_out_of_reach(installation: Installation) -> None:
    data, server = installation.data_dir, installation.server.pid
    wal = sorted((data / "pg" / "pg_wal").glob("0*"))[0]
    paths = [
        str(data / "master.key"),
        str(data / "postgres.password"),
        str(data / "pg" / "global" / "pg_control"),
        str(wal),
        f"/proc/{server}/environ",
        f"/proc/{server}/mem",
        f"/proc/{server}/cmdline",
        f"/proc/{_postgres_pid(installation)}/environ",
        "/etc/shadow",
        "/etc/passwd",
    ]
    outcome = attack(installation, "reads", paths=paths)
    assert outcome["status"] == "succeeded", outcome
    found = outcome["result"]["value"]
    assert not [p for p, seen in found.items() if seen.startswith("READ")], found
    listed = attack(installation, "lists", paths=[str(data), str(data / "pg"), "/proc", "/"])
    seen = listed["result"]["value"]
    assert seen[str(data)] == seen[str(data / "pg")] == "FileNotFoundError"
    pids = [entry for entry in seen["/proc"] if entry.isdigit()]
    assert str(server) not in pids and len(pids) <= 4, pids  # its own few processes only
    assert not {"var", "home", "sys", "boot", "srv", "mnt", "opt"} & set(seen["/"]), seen["/"]


def test_the_database_and_the_api_cannot_be_reached(installation: Installation) -> None:
    socket_path = str(installation.data_dir / "pg" / ".s.PGSQL.5432")
    outcome = attack(installation, "connects", socket_path=socket_path, port=installation.port)
    found = outcome["result"]["value"]
    assert "CONNECTED" not in found.values(), found


def test_the_server_cannot_be_signalled(installation: Installation) -> None:
    pids = [installation.server.pid, _postgres_pid(installation), 1]
    outcome = attack(installation, "signals", pids=pids)
    found = outcome["result"]["value"]
    assert found[str(installation.server.pid)] == "ProcessLookupError", found
    assert found[str(pids[1])] == "ProcessLookupError", found
    assert installation.server.poll() is None
    assert httpx.get(f"{installation.url}/healthz").status_code == 200


def test_a_fork_bomb_stops_at_the_limit(installation: Installation) -> None:
    outcome = attack(installation, "fork_bomb")
    assert outcome["status"] == "failed"
    assert "Resource temporarily unavailable" in outcome["error"], outcome
    assert httpx.get(f"{installation.url}/healthz").status_code == 200


def test_nothing_outlives_the_call(installation: Installation) -> None:
    marker = f"linger-{uuid.uuid4().hex}"
    outcome = attack(installation, "lingers", marker=marker)
    assert outcome["result"]["value"] == "left behind", outcome
    survivors = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if marker.encode() in cmdline.read_bytes():
                survivors.append(cmdline.parent.name)
        except OSError:
            continue
    assert survivors == []


def test_writes_stay_in_the_calls_own_scratch(installation: Installation) -> None:
    marker = f"scratch-{uuid.uuid4().hex}"
    data = installation.data_dir
    targets = [str(data / marker), f"/usr/{marker}", f"/{marker}", f"/var/tmp/{marker}",
               f"/dev/shm/{marker}", f"/dev/{marker}"]  # fmt: skip
    outcome = attack(installation, "writes", paths=targets, marker=marker)
    found = outcome["result"]["value"]
    assert "WROTE" not in found.values(), found
    for path in [*targets, f"/tmp/{marker}"]:
        assert not Path(path).exists(), path


def test_the_sandbox_cannot_be_taken_apart_from_inside(installation: Installation) -> None:
    outcome = attack(installation, "tampers", server_pid=installation.server.pid)
    found = outcome["result"]["value"]
    assert found["setns"] in ("FileNotFoundError", "PermissionError"), found
    for call in ("unshare", "ptrace", "mount"):
        assert found[call] == "Operation not permitted", (call, found)
    assert found["setuid"] != "OK"  # EINVAL: no root to become in its user namespace
    assert (found["seccomp"], found["no_new_privs"]) == ("2", "1")
    assert found["uid"] == 65534
