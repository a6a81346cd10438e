"""The seccomp filter a sandboxed tool runs under: a classic BPF program that bubblewrap
installs (`--seccomp FD`) just before it starts the interpreter.

It allows every system call except those no tool needs and a sandbox escape would:
tracing and reading other processes' memory, mounting and namespaces, kernel modules,
keyrings, BPF, perf events, io_uring, userfaultfd, file handles, clocks, reboot. A
refused call fails with EPERM (clone3 with ENOSYS, so the C library falls back to clone,
whose namespace flags are then refused). A call from another architecture (the x32 ABI,
32-bit compatibility) kills the process. Machines other than x86-64 and arm64 get no
filter (`program()` is None): the namespaces and limits still hold there."""

from __future__ import annotations

import platform
import struct
from collections.abc import Iterable

# classic BPF (linux/filter.h, linux/seccomp.h)
_LOAD_WORD = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JUMP_EQUAL = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JUMP_AT_LEAST = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_JUMP_ANY_BIT = 0x45  # BPF_JMP | BPF_JSET | BPF_K
_RETURN = 0x06  # BPF_RET | BPF_K
ALLOW = 0x7FFF0000
KILL_PROCESS = 0x80000000
ERRNO = 0x00050000
EPERM, ENOSYS = 1, 38
# offsets in struct seccomp_data
_NUMBER, _ARCH, _FIRST_ARGUMENT = 0, 4, 16
X32_BIT = 0x40000000
NAMESPACE_FLAGS = 0x7E020080  # CLONE_NEW{NS,CGROUP,UTS,IPC,USER,PID,NET,TIME}


# the numbers (arch/x86/entry/syscalls/syscall_64.tbl; include/uapi/asm-generic/unistd.h)
_X86_64 = {
    "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "kcmp": 312,
    "pidfd_getfd": 438, "mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161,
    "unshare": 272, "setns": 308, "open_tree": 428, "move_mount": 429, "fsopen": 430,
    "fsconfig": 431, "fsmount": 432, "fspick": 433, "mount_setattr": 442,
    "init_module": 175, "finit_module": 313, "delete_module": 176, "kexec_load": 246,
    "kexec_file_load": 320, "add_key": 248, "request_key": 249, "keyctl": 250, "bpf": 321,
    "perf_event_open": 298, "userfaultfd": 323, "fanotify_init": 300,
    "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
    "name_to_handle_at": 303, "open_by_handle_at": 304, "lookup_dcookie": 212,
    "move_pages": 279, "syslog": 103, "acct": 163, "quotactl": 179, "swapon": 167,
    "swapoff": 168, "reboot": 169, "settimeofday": 164, "clock_adjtime": 305,
    "clone": 56, "clone3": 435,
}  # fmt: skip
_ARM64 = {
    "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271, "kcmp": 272,
    "pidfd_getfd": 438, "mount": 40, "umount2": 39, "pivot_root": 41, "chroot": 51,
    "unshare": 97, "setns": 268, "open_tree": 428, "move_mount": 429, "fsopen": 430,
    "fsconfig": 431, "fsmount": 432, "fspick": 433, "mount_setattr": 442,
    "init_module": 105, "finit_module": 273, "delete_module": 106, "kexec_load": 104,
    "kexec_file_load": 294, "add_key": 217, "request_key": 218, "keyctl": 219, "bpf": 280,
    "perf_event_open": 241, "userfaultfd": 282, "fanotify_init": 262,
    "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
    "name_to_handle_at": 264, "open_by_handle_at": 265, "lookup_dcookie": 18,
    "move_pages": 239, "syslog": 116, "acct": 89, "quotactl": 60, "swapon": 224,
    "swapoff": 225, "reboot": 142, "settimeofday": 170, "clock_adjtime": 266,
    "clone": 220, "clone3": 435,
}  # fmt: skip
# machine name: (AUDIT_ARCH_*, numbers, whether the x32 ABI shares it)
ARCHITECTURES = {
    "x86_64": (0xC000003E, _X86_64, True),
    "aarch64": (0xC00000B7, _ARM64, False),
    "arm64": (0xC00000B7, _ARM64, False),
}


def _op(code: int, k: int, jump_true: int = 0, jump_false: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jump_true, jump_false, k)


def _refuse(numbers: Iterable[int], errno: int) -> bytes:
    """For each number: if the call is it, return the errno (else go on)."""
    return b"".join(_op(_JUMP_EQUAL, n, 0, 1) + _op(_RETURN, ERRNO | errno) for n in numbers)


OWN_RULES = ("clone", "clone3")
"""Calls the filter treats apart; every other one named below is refused with EPERM."""


def program(machine: str | None = None) -> bytes | None:
    """The filter for this machine's architecture, as bubblewrap reads it; None if unknown."""
    known = ARCHITECTURES.get(machine or platform.machine())
    if known is None:
        return None
    arch, numbers, x32 = known
    code = _op(_LOAD_WORD, _ARCH) + _op(_JUMP_EQUAL, arch, 1, 0) + _op(_RETURN, KILL_PROCESS)
    code += _op(_LOAD_WORD, _NUMBER)
    if x32:
        code += _op(_JUMP_AT_LEAST, X32_BIT, 0, 1) + _op(_RETURN, KILL_PROCESS)
    code += _refuse((n for name, n in numbers.items() if name not in OWN_RULES), EPERM)
    code += _refuse([numbers["clone3"]], ENOSYS)
    # clone: refused when its flags ask for a namespace (its first argument's low word)
    code += _op(_JUMP_EQUAL, numbers["clone"], 0, 3)
    code += _op(_LOAD_WORD, _FIRST_ARGUMENT)
    code += _op(_JUMP_ANY_BIT, NAMESPACE_FLAGS, 0, 1) + _op(_RETURN, ERRNO | EPERM)
    return code + _op(_RETURN, ALLOW)
