"""Running a `python` tool in a process of its own, confined.

The process is a fresh interpreter (`-I -S`: no site packages, no PYTHON* variables) in
a temporary working directory, with an environment of two harmless variables (nothing of
the server's, so no secrets), in a session of its own (killed whole when it ends). The
kernel bounds its memory (address space), CPU time, file sizes and open files; it gets no
network (a network namespace of its own) unless its policy allows one. Its output is read
up to a cap, and a wall clock stops it. Inside, the runner (`sandbox_runner.py`) refuses
starting processes, native code and, without the network, sockets."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import signal
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from personae.settings import Settings
from personae.tools.outcome import Outcome

RUNNER = Path(__file__).with_name("sandbox_runner.py")
ENVIRONMENT = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}


@dataclass(frozen=True)
class Limits:
    wall_s: float = 10.0
    cpu_s: int = 5
    memory_mb: int = 256
    output_bytes: int = 1_000_000
    file_mb: int = 10
    open_files: int = 64

    @classmethod
    def configured(cls, settings: Settings) -> Limits:
        return cls(
            wall_s=settings.tool_sandbox_wall_s,
            cpu_s=settings.tool_sandbox_cpu_s,
            memory_mb=settings.tool_sandbox_memory_mb,
            output_bytes=settings.tool_output_bytes,
        )


async def run_python(
    code: str,
    entry: str,
    arguments: dict[str, Any],
    limits: Limits,
    *,
    network: bool = False,
) -> Outcome:
    """Run `entry(**arguments)` from `code` in the sandbox; how it went."""
    order = json.dumps(
        {
            "code": code,
            "entry": entry,
            "arguments": arguments,
            "network": network,
            "limits": dataclasses.asdict(limits),
        }
    )
    with tempfile.TemporaryDirectory(prefix="personae-tool-") as workdir:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-I",
            "-S",
            str(RUNNER),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=workdir,
            env=ENVIRONMENT,
            start_new_session=True,
        )
        try:
            out, logs, over = await asyncio.wait_for(
                _exchange(process, order.encode(), limits.output_bytes), limits.wall_s
            )
        except TimeoutError:
            return Outcome("timed_out", error=f"still running after {limits.wall_s:g} s")
        finally:
            _kill_group(process)
            with contextlib.suppress(ProcessLookupError):
                await process.wait()
    shown = logs.decode(errors="replace")
    if over:
        return Outcome("failed", error=f"printed more than {limits.output_bytes} bytes", logs=shown)
    if process.returncode is not None and process.returncode < 0:
        return Outcome("failed", error=_signalled(-process.returncode, limits), logs=shown)
    return _answer(out, shown)


async def _exchange(
    process: asyncio.subprocess.Process, order: bytes, cap: int
) -> tuple[bytes, bytes, bool]:
    """Send the order; read stdout and stderr until both close or together pass `cap`."""
    assert process.stdin and process.stdout and process.stderr
    process.stdin.write(order)
    with contextlib.suppress(ConnectionError):
        await process.stdin.drain()
    process.stdin.close()
    read = {"out": bytearray(), "err": bytearray()}
    over = False

    async def pump(stream: asyncio.StreamReader, into: bytearray) -> None:
        nonlocal over
        while chunk := await stream.read(65536):
            into.extend(chunk)
            if len(read["out"]) + len(read["err"]) > cap:
                over = True
                _kill_group(process)
                return

    await asyncio.gather(pump(process.stdout, read["out"]), pump(process.stderr, read["err"]))
    return bytes(read["out"]), bytes(read["err"][:cap]), over


def _kill_group(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def _signalled(number: int, limits: Limits) -> str:
    if number == signal.SIGXCPU:
        return f"used more than {limits.cpu_s} s of CPU"
    if number == signal.SIGXFSZ:
        return f"wrote a file over {limits.file_mb} MB"
    return f"stopped by signal {signal.Signals(number).name}"


def _answer(out: bytes, logs: str) -> Outcome:
    lines = out.decode(errors="replace").strip().splitlines()
    try:
        answer = json.loads(lines[-1]) if lines else {}
    except json.JSONDecodeError:
        answer = {}
    if "value" in answer:
        return Outcome("succeeded", value=answer["value"], logs=logs)
    return Outcome(
        "failed",
        error=answer.get("error", "the tool ended without an answer"),
        logs=logs,
        retryable=bool(answer.get("retryable")),
    )
