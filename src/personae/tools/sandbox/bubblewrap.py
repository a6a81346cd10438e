"""The jail a python tool runs in: bubblewrap's namespaces around a plain interpreter.

Each run gets new user, PID, network, IPC, UTS and cgroup namespaces and a mount
namespace whose root holds only `/usr` (with `/bin`, `/lib`… as the host has them), the
CA certificates, the interpreter's own prefix without its site-packages, a `/proc` of
its own PID namespace, a minimal `/dev`, and a private `/tmp` of bounded size; the rest
is read-only. No data directory, no database socket, no other process, no host network
(only loopback, and an egress socket when its policy allows the network). The process is
uid 65534 inside, may not make user namespaces, starts a session of its own, dies with
the server, and runs under the seccomp filter (`seccomp.py`). When the server runs as
root, bubblewrap itself is started as `tool_sandbox_uid` (by `setpriv`), so the tool is
not root on the host either and the kernel's process limit binds it."""

from __future__ import annotations

import functools
import json
import os
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from personae.settings import Settings

SANDBOX_UID = 65534
SCRATCH = "/tmp"  # noqa: S108 - the sandbox's own tmpfs, not the host's
SANDBOX_ENVIRONMENT = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": SCRATCH}
"""All a tool sees of an environment; bubblewrap itself (the sandbox's PID 1, whose
`/proc/1/environ` a tool can read) gets only PATH."""
LAUNCHER_ENVIRONMENT = {"PATH": SANDBOX_ENVIRONMENT["PATH"]}
"""What bubblewrap and the interpreter probe are started with: nothing of the server's."""
EGRESS_SOCKET = "/run/personae/egress.sock"
TOP_LEVEL = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
SYSTEM_PYTHON = "/usr/bin/python3"
_PROBE = (
    "import json, site, sys, sysconfig\n"
    "places = site.getsitepackages() + [sysconfig.get_path(p) for p in ('purelib', 'platlib')]\n"
    "print(json.dumps({'prefix': sys.base_prefix, 'site': sorted(set(places))}))\n"
)


class SandboxUnavailable(Exception):
    """The jail cannot be set up on this machine; the message says why and what to do."""


@dataclass(frozen=True)
class Interpreter:
    executable: str
    prefix: str
    site_packages: tuple[str, ...]
    """Its third-party packages: hidden in the jail (a tool gets the standard library)."""


@functools.cache
def inspect_interpreter(executable: str) -> Interpreter:
    """An interpreter's prefix and site-packages, asked of it once per process."""
    try:
        found = subprocess.run(  # noqa: S603 - an interpreter the operator chose
            [executable, "-I", "-S", "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
            env=LAUNCHER_ENVIRONMENT,
        )
        facts = json.loads(found.stdout)
    except (OSError, subprocess.SubprocessError, ValueError) as error:
        raise SandboxUnavailable(f"cannot run the interpreter {executable}: {error}") from None
    hidden = tuple(p for p in facts["site"] if os.path.isdir(p))
    return Interpreter(os.path.realpath(executable), str(facts["prefix"]), hidden)


@dataclass(frozen=True)
class Jail:
    bwrap: str
    interpreter: Interpreter
    become: tuple[str, int] | None
    """(setpriv, uid) when the server is root: bubblewrap is started as that uid."""

    @classmethod
    def discover(cls, settings: Settings) -> Jail:
        """The jail for this machine, tried once per process (serve's start-up check and
        the first tool share it); SandboxUnavailable says why not."""
        bwrap = shutil.which("bwrap")
        if bwrap is None:
            raise SandboxUnavailable(
                "bubblewrap (bwrap) is not installed: install it (apt-get install bubblewrap)"
            )
        become = None
        if os.geteuid() == 0:
            setpriv = shutil.which("setpriv")
            if setpriv is None:
                raise SandboxUnavailable(
                    "the server runs as root and setpriv (util-linux) is missing to drop to "
                    f"uid {settings.tool_sandbox_uid}: install util-linux or run as a user"
                )
            become = (setpriv, settings.tool_sandbox_uid)
        jail = cls(bwrap, inspect_interpreter(_interpreter(settings, become)), become)
        refusal = _tried(jail)
        if refusal is not None:
            raise SandboxUnavailable(f"bubblewrap cannot set up the sandbox here: {refusal}")
        return jail

    def command(
        self,
        source: str,
        *,
        seccomp_fd: int | None,
        scratch_mb: int,
        egress_socket: str | None,
    ) -> list[str]:
        """The command that runs `python -I -S -c source` in the jail."""
        prefix = []
        if self.become is not None:
            setpriv, uid = self.become
            prefix = [setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--"]
        namespaces = ["--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc"]
        namespaces += ["--unshare-uts", "--unshare-cgroup-try", "--disable-userns"]
        who = ["--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--hostname", "tool"]
        lifetime = ["--die-with-parent", "--new-session"]
        files = ["--ro-bind", "/usr", "/usr", *_top_level()]
        files += ["--ro-bind-try", "/etc/ssl/certs", "/etc/ssl/certs"]
        python = self.interpreter
        if not Path(python.prefix).is_relative_to("/usr"):
            files += ["--ro-bind", python.prefix, python.prefix]
        for hidden in python.site_packages:
            files += ["--tmpfs", hidden]
        files += ["--proc", "/proc", "--dev", "/dev", "--remount-ro", "/dev"]
        files += ["--size", str(scratch_mb * 2**20), "--tmpfs", SCRATCH]
        if egress_socket is not None:
            files += ["--bind", egress_socket, EGRESS_SOCKET]
        files += ["--remount-ro", "/", "--chdir", SCRATCH]
        environment = ["--clearenv"]
        for name, value in SANDBOX_ENVIRONMENT.items():
            environment += ["--setenv", name, value]
        seccomp = ["--seccomp", str(seccomp_fd)] if seccomp_fd is not None else []
        run = [python.executable, "-I", "-S", "-c", source]
        return [
            *prefix,
            self.bwrap,
            *namespaces,
            *who,
            *lifetime,
            *files,
            *environment,
            *seccomp,
            "--",
            *run,
        ]


@functools.cache
def _tried(jail: Jail) -> str | None:
    """Why the jail cannot run an interpreter here (bubblewrap's last word), or None."""
    trial = subprocess.run(  # noqa: S603 - our own command line
        jail.command("pass", seccomp_fd=None, scratch_mb=1, egress_socket=None),
        capture_output=True,
        text=True,
        timeout=30,
        env=LAUNCHER_ENVIRONMENT,
    )
    if trial.returncode == 0:
        return None
    return (trial.stderr.strip().splitlines() or ["no reason given"])[-1]


def _interpreter(settings: Settings, become: tuple[str, int] | None) -> str:
    """The configured interpreter, else the server's own, else (when the sandbox's uid
    cannot read the server's, say under /root) the system's."""
    if settings.tool_sandbox_python is not None:
        return str(settings.tool_sandbox_python)
    own = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
    if become is None or _readable_by_others(own):
        return own
    if _readable_by_others(SYSTEM_PYTHON):
        return SYSTEM_PYTHON
    raise SandboxUnavailable(
        f"uid {become[1]} cannot read this server's interpreter ({own}) and there is no "
        f"{SYSTEM_PYTHON}: set PERSONAE_TOOL_SANDBOX_PYTHON to one it can read, or run "
        "Personae as a user other than root"
    )


def _readable_by_others(path: str) -> bool:
    """Whether a user with no relation to the file's owner can reach and run it."""
    real = Path(os.path.realpath(path))
    try:
        if not real.stat().st_mode & stat.S_IXOTH:
            return False
        return all(p.stat().st_mode & stat.S_IXOTH for p in real.parents)
    except OSError:
        return False


def _top_level() -> list[str]:
    """/bin, /lib… as on the host: symlinks into /usr where merged, read-only otherwise."""
    made: list[str] = []
    for path in TOP_LEVEL:
        if os.path.islink(path):
            made += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            made += ["--ro-bind", path, path]
    return made
