"""Runs one python tool inside its sandbox (started as `python -I -S -c <this source>`,
standard library only). Reads {"code", "entry", "arguments", "limits", "jail",
"network"} as JSON on stdin, sets the kernel's limits on itself, then runs
`entry(**arguments)` from `code`, and writes {"value": ...} or {"error": ...} as the last
line of stdout (with `retryable`: whether trying again could help); the tool's own prints
go to stderr.

In the jail (bubblewrap) the operating system is the boundary and nothing here needs to
hold against the tool: lowering the limits is one-way, and with the network a loopback
port is forwarded to the egress socket and set as the HTTP(S) proxy. In the weaker process
mode (`jail` false, single-user installations only), an audit hook refuses starting
processes, native code, changing the limits and, without the network, sockets; it is a
speed bump, not a wall."""

from __future__ import annotations

import json
import os
import resource
import sys

TYPE_CHECKING = False  # typing costs a tool's every start some milliseconds: not imported
if TYPE_CHECKING:
    import socket
    from collections.abc import Callable
    from typing import Any

EGRESS_SOCKET = "/run/personae/egress.sock"  # where bubblewrap.py binds it (stdlib only here)
FORBIDDEN = {
    "os.fork",
    "os.forkpty",
    "os.system",
    "os.exec",
    "os.posix_spawn",
    "os.spawn",
    "subprocess.Popen",
    "ctypes.dlopen",
    "ctypes.dlsym",
    "ctypes.call_function",
    "resource.setrlimit",
    "resource.prlimit",
}
NATIVE_MODULES = {"ctypes", "_ctypes", "_posixsubprocess", "_xxsubinterpreters"}
NETWORK = {"socket.connect", "socket.bind", "socket.getaddrinfo", "socket.sendto"}
CLONE_NEWUSER, CLONE_NEWNET = 0x10000000, 0x40000000


class Refused(Exception):
    """What the weaker mode's audit hook does not allow."""


class Contract(Exception):
    """The code breaks the tool contract (no entry function): no retry will mend it."""


def _guard(network: bool) -> Callable[[str, tuple[Any, ...]], None]:
    refused = FORBIDDEN if network else FORBIDDEN | NETWORK

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event in refused:
            raise Refused(f"the sandbox refuses {event}")
        if event == "import" and args[0] in NATIVE_MODULES:
            raise Refused(f"the sandbox refuses importing {args[0]}")

    return hook


def _limit(limits: dict[str, int], processes: int) -> None:
    memory = limits["memory_mb"] * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (limits["cpu_s"], limits["cpu_s"] + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_mb"] * 2**20,) * 2)
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits["open_files"],) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if processes:
        resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))


def _weaker(network: bool) -> None:
    """The process mode's own network namespace (where the kernel allows one)."""
    if not network:
        import ctypes  # before the hook, which refuses it to the tool

        flags = CLONE_NEWNET if os.getuid() == 0 else CLONE_NEWUSER | CLONE_NEWNET
        ctypes.CDLL(None, use_errno=True).unshare(flags)  # where refused, the hook holds


def _forward_egress() -> str:
    """Forward a loopback port to the egress socket, in a thread; its proxy URL."""
    import contextlib
    import selectors
    import socket
    import threading

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    chooser = selectors.DefaultSelector()
    chooser.register(listener, selectors.EVENT_READ, listener)
    peers: dict[socket.socket, socket.socket] = {}

    def finish(side: socket.socket) -> None:
        other = peers.pop(side, None)
        chooser.unregister(side)
        if other is None:
            side.close()
            return
        with contextlib.suppress(OSError):
            other.shutdown(socket.SHUT_WR)
        if other not in peers:  # both ends are done
            side.close()
            other.close()

    def loop() -> None:
        while True:
            for key, _ in chooser.select():
                side: socket.socket = key.data  # registered with itself as its data
                if side is listener:
                    inner, _ = listener.accept()
                    outer = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    try:
                        outer.connect(EGRESS_SOCKET)
                    except OSError:
                        inner.close()
                        continue
                    peers[inner], peers[outer] = outer, inner
                    chooser.register(inner, selectors.EVENT_READ, inner)
                    chooser.register(outer, selectors.EVENT_READ, outer)
                    continue
                try:
                    data = side.recv(65536)
                    if data and side in peers:
                        peers[side].sendall(data)
                except OSError:
                    data = b""
                if not data:
                    finish(side)

    threading.Thread(target=loop, daemon=True).start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}"


def main() -> None:
    order = json.loads(sys.stdin.read())
    jail, network = bool(order.get("jail")), bool(order.get("network"))
    limits = order["limits"]
    if jail:
        _limit(limits, limits["processes"])
        if network:  # through the egress socket, the only way out
            proxy = _forward_egress()
            for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
                os.environ[name] = proxy
    else:
        _limit(limits, 1 if os.getuid() != 0 else 0)  # root ignores it: the hook guards
        _weaker(network)
        sys.addaudithook(_guard(network))
    origin = os.getpid()
    real_stdout, sys.stdout = sys.stdout, sys.stderr
    namespace: dict[str, Any] = {"__name__": "tool"}
    try:
        exec(compile(order["code"], "<tool>", "exec"), namespace)  # noqa: S102 - the sandbox's job
        entry = namespace.get(order["entry"])
        if not callable(entry):
            raise Contract(f"the tool defines no function {order['entry']}(**arguments)")
        value = entry(**order["arguments"])
        answer = {"value": value}
    except MemoryError:
        answer = {"error": "the tool ran out of memory", "retryable": False}
    except Refused as error:
        answer = {"error": f"Refused: {error}", "retryable": False}
    except Contract as error:
        answer = {"error": str(error), "retryable": False}
    except BaseException as error:  # a failure of the outside world may pass; the code's not
        transient = isinstance(error, OSError)
        answer = {"error": f"{type(error).__name__}: {error}", "retryable": transient}
    if os.getpid() != origin:  # a process the tool forked: only the tool's own answers
        os._exit(0)
    try:
        line = json.dumps(answer)
    except (TypeError, ValueError):
        line = json.dumps({"error": "the tool's result is not JSON"})
    real_stdout.write("\n" + line + "\n")
    real_stdout.flush()


if __name__ == "__main__":
    main()
