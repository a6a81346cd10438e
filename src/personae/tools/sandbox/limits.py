"""What a sandboxed tool may use: the kernel's limits on it, its clock and its output."""

from __future__ import annotations

from dataclasses import dataclass

from personae.settings import Settings


@dataclass(frozen=True)
class Limits:
    wall_s: float = 10.0
    cpu_s: int = 5
    memory_mb: int = 256
    """Address space of each of its processes."""
    output_bytes: int = 1_000_000
    file_mb: int = 10
    open_files: int = 64
    processes: int = 16
    """Processes and threads in its sandbox, the interpreter and the sandbox's own init
    included (bubblewrap only: the weaker mode allows one)."""
    scratch_mb: int = 64
    """Its private, writable /tmp (bubblewrap only)."""

    @classmethod
    def configured(cls, settings: Settings) -> Limits:
        return cls(
            wall_s=settings.tool_sandbox_wall_s,
            cpu_s=settings.tool_sandbox_cpu_s,
            memory_mb=settings.tool_sandbox_memory_mb,
            output_bytes=settings.tool_output_bytes,
            processes=settings.tool_sandbox_processes,
            scratch_mb=settings.tool_sandbox_scratch_mb,
        )
