"""Starting a sandboxed tool, talking to it, stopping it and reading how it went.

The order (code, entry, arguments, limits) goes in on stdin; stdout and stderr are read
together up to the output cap; a wall clock stops it. Stopping kills the process group
of what was started (bubblewrap, or the interpreter in the weaker mode): bubblewrap's
PID namespace then takes every process the tool made with it."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import signal
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from personae.settings import Settings
from personae.tools.outcome import Outcome
from personae.tools.sandbox import seccomp
from personae.tools.sandbox.bubblewrap import LAUNCHER_ENVIRONMENT, Jail, SandboxUnavailable
from personae.tools.sandbox.egress import Refusal, egress_proxy
from personae.tools.sandbox.limits import Limits

RUNNER = (Path(__file__).with_name("runner.py")).read_text()
WEAKER_ENVIRONMENT = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
SIGNALLED = 128  # bubblewrap exits 128 + N when the tool died of signal N


class Sandbox:
    """Runs python tools: in the bubblewrap jail, or (`tool_sandbox = "process"`) in the
    weaker mode; the jail is looked for once, at the first run or `check()`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.limits = Limits.configured(settings)
        self._jail: Jail | SandboxUnavailable | None = None
        self._looking = asyncio.Lock()

    @property
    def jailed(self) -> bool:
        return self.settings.tool_sandbox == "bubblewrap"

    def check(self) -> Jail | None:
        """The jail (None in the weaker mode); SandboxUnavailable says why there is none."""
        if not self.jailed:
            return None
        if self._jail is None:
            try:
                self._jail = Jail.discover(self.settings)
            except SandboxUnavailable as error:
                self._jail = error
        if isinstance(self._jail, SandboxUnavailable):
            raise self._jail
        return self._jail

    async def run(
        self,
        code: str,
        entry: str,
        arguments: dict[str, Any],
        *,
        wall_s: float | None = None,
        egress: Refusal | None = None,
    ) -> Outcome:
        """Run `entry(**arguments)` from `code`; `egress`, when the tool may use the
        network, decides which hosts it may reach."""
        limits = dataclasses.replace(self.limits, wall_s=wall_s) if wall_s else self.limits
        try:
            async with self._looking:
                jail = await asyncio.to_thread(self.check) if self._jail is None else self.check()
        except SandboxUnavailable as error:
            return Outcome("failed", error=f"python tools cannot run here: {error}")
        order = {
            "code": code,
            "entry": entry,
            "arguments": arguments,
            "limits": dataclasses.asdict(limits),
            "jail": jail is not None,
            "network": egress is not None,
        }
        async with self._started(jail, limits, egress) as process:
            try:
                out, logs, over = await asyncio.wait_for(
                    _exchange(process, json.dumps(order).encode(), limits.output_bytes),
                    limits.wall_s,
                )
            except TimeoutError:
                return Outcome("timed_out", error=f"still running after {limits.wall_s:g} s")
        shown = logs.decode(errors="replace")
        if over:
            return Outcome(
                "failed", error=f"printed more than {limits.output_bytes} bytes", logs=shown
            )
        died = _signal(process.returncode, jail is not None)
        if died is not None:
            return Outcome("failed", error=_signalled(died, limits), logs=shown)
        return _answer(out, shown)

    @contextlib.asynccontextmanager
    async def _started(
        self, jail: Jail | None, limits: Limits, egress: Refusal | None
    ) -> AsyncIterator[asyncio.subprocess.Process]:
        async with contextlib.AsyncExitStack() as stack:
            if jail is None:
                workdir = stack.enter_context(tempfile.TemporaryDirectory(prefix="personae-tool-"))
                command = [sys.executable, "-I", "-S", "-c", RUNNER]
                process = await _start(command, env=WEAKER_ENVIRONMENT, cwd=workdir)
            else:
                socket = None
                if egress is not None:
                    owner = jail.become[1] if jail.become else None
                    socket = await stack.enter_async_context(egress_proxy(egress, owner=owner))
                process = await _start_jailed(jail, limits, socket)
            try:
                yield process
            finally:
                _kill_group(process)
                with contextlib.suppress(ProcessLookupError):
                    await process.wait()


async def _start_jailed(
    jail: Jail, limits: Limits, socket: str | None
) -> asyncio.subprocess.Process:
    """Start the jail, handing bubblewrap the seccomp filter through a pipe."""
    program = seccomp.program()
    reading = None
    if program is not None:
        reading, writing = os.pipe()
        os.write(writing, program)  # a few hundred bytes: the pipe holds them
        os.close(writing)
    try:
        command = jail.command(
            RUNNER, seccomp_fd=reading, scratch_mb=limits.scratch_mb, egress_socket=socket
        )
        return await _start(
            command, env=LAUNCHER_ENVIRONMENT, pass_fds=() if reading is None else (reading,)
        )
    finally:
        if reading is not None:
            os.close(reading)


async def _start(
    command: list[str],
    *,
    env: dict[str, str],
    cwd: str | None = None,
    pass_fds: tuple[int, ...] = (),
) -> asyncio.subprocess.Process:
    """A process of its own session, talked to through pipes."""
    return await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=cwd,
        env=env,
        pass_fds=pass_fds,
        start_new_session=True,
    )


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
    await process.wait()
    return bytes(read["out"]), bytes(read["err"][:cap]), over


def _kill_group(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def _signal(returncode: int | None, jailed: bool) -> int | None:
    """The signal the tool died of, if it did."""
    if returncode is None:
        return None
    if returncode < 0:
        return -returncode
    if jailed and SIGNALLED < returncode < SIGNALLED + 65:
        return returncode - SIGNALLED
    return None


def _signalled(number: int, limits: Limits) -> str:
    if number == signal.SIGXCPU:
        return f"used more than {limits.cpu_s} s of CPU"
    if number == signal.SIGXFSZ:
        return f"wrote a file over {limits.file_mb} MB"
    try:
        return f"stopped by signal {signal.Signals(number).name}"
    except ValueError:
        return f"stopped by signal {number}"


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
