"""Runs one python tool inside the sandbox process (started as `python -I -S this-file`,
stdlib only). Reads {"code", "entry", "arguments", "network"} as JSON on stdin, runs
`entry(**arguments)` from `code`, and writes {"value": ...} or {"error": ...} as the
last line of stdout (with `retryable`: whether trying again could help); the tool's own
prints go to stderr.

Before the tool's code runs, an audit hook (which nothing can remove) refuses starting
processes, loading native code through ctypes, and, unless the tool's policy allows
the network, opening sockets. The kernel limits set by `sandbox.py` stand behind it."""

import json
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
}
NATIVE_MODULES = {"ctypes", "_ctypes", "_posixsubprocess", "_xxsubinterpreters"}
NETWORK = {"socket.connect", "socket.bind", "socket.getaddrinfo", "socket.sendto"}


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


def main() -> None:
    order = json.loads(sys.stdin.read())
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
