"""Runs one python tool inside the sandbox process (started as `python -I -S this-file`,
stdlib only). Reads {"code", "entry", "arguments", "network", "limits"} as JSON on stdin,
confines itself (the kernel's limits; a network namespace of its own unless the network is
allowed), then runs
`entry(**arguments)` from `code`, and writes {"value": ...} or {"error": ...} as the
last line of stdout (with `retryable`: whether trying again could help); the tool's own
prints go to stderr.

Before the tool's code runs, an audit hook (which nothing can remove) refuses starting
processes, loading or calling native code through ctypes, changing the limits, and, unless
the tool's policy allows the network, opening sockets. (The confinement happens here, not
in a `preexec_fn` of the server: that would make the server fork its whole memory.)"""

import json
import os
import resource
import sys

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
    """What the sandbox does not allow."""


def _guard(network: bool):  # type: ignore[no-untyped-def]
    refused = FORBIDDEN if network else FORBIDDEN | NETWORK

    def hook(event, args):  # type: ignore[no-untyped-def]
        if event in refused:
            raise Refused(f"the sandbox refuses {event}")
        if event == "import" and args[0] in NATIVE_MODULES:
            raise Refused(f"the sandbox refuses importing {args[0]}")

    return hook


def _confine(limits: "dict[str, int]", network: bool) -> None:
    """The kernel's limits on this process, and no network unless allowed."""
    memory = limits["memory_mb"] * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (limits["cpu_s"], limits["cpu_s"] + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_mb"] * 2**20,) * 2)
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits["open_files"],) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if os.getuid() != 0:
        resource.setrlimit(resource.RLIMIT_NPROC, (1, 1))  # root ignores it: the hook guards
    if not network:
        import ctypes  # before the hook, which refuses it to the tool

        flags = CLONE_NEWNET if os.getuid() == 0 else CLONE_NEWUSER | CLONE_NEWNET
        ctypes.CDLL(None, use_errno=True).unshare(flags)  # where refused, the hook still holds


def main() -> None:
    order = json.loads(sys.stdin.read())
    _confine(order["limits"], bool(order.get("network")))
    sys.addaudithook(_guard(bool(order.get("network"))))
    real_stdout, sys.stdout = sys.stdout, sys.stderr
    namespace: dict = {"__name__": "tool"}  # type: ignore[type-arg]
    try:
        exec(compile(order["code"], "<tool>", "exec"), namespace)  # noqa: S102 - the sandbox's job
        value = namespace[order["entry"]](**order["arguments"])
        answer = {"value": value}
    except MemoryError:
        answer = {"error": "the tool ran out of memory", "retryable": False}
    except Refused as error:
        answer = {"error": f"Refused: {error}", "retryable": False}
    except BaseException as error:
        answer = {"error": f"{type(error).__name__}: {error}", "retryable": True}
    try:
        line = json.dumps(answer)
    except (TypeError, ValueError):
        line = json.dumps({"error": "the tool's result is not JSON"})
    real_stdout.write("\n" + line + "\n")
    real_stdout.flush()


if __name__ == "__main__":
    main()
