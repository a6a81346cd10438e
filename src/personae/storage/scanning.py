"""Scanning uploaded files: always-on checks, and ClamAV over its socket when configured.

A scanner answers a `Verdict`; one that fails raises `ScanFailed`, and the caller
quarantines the file (fail closed)."""

from __future__ import annotations

import asyncio
import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from personae.settings import Settings
from personae.storage.content import is_executable

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
DOCUMENT_EXTENSIONS = frozenset(
    (
        *("pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "odp", "rtf"),
        *("txt", "csv", "md", "json", "xml", "html", "htm", "zip"),
        *("png", "jpg", "jpeg", "gif", "webp", "bmp", "tif", "tiff", "svg"),
        *("mp3", "mp4", "wav", "mov"),
    )
)
CHUNK = 64 * 1024


@dataclass(frozen=True)
class Verdict:
    clean: bool
    reason: str | None = None

    @classmethod
    def infected(cls, reason: str) -> Verdict:
        return cls(False, reason)


CLEAN = Verdict(True)


class ScanFailed(Exception):
    """The scanner could not give a verdict (unreachable, timed out, answered nonsense)."""


class Scanner(Protocol):
    @property
    def name(self) -> str: ...

    async def scan(self, data: bytes, filename: str, mime_type: str) -> Verdict: ...


class BuiltinChecks:
    """The EICAR test signature, and executables named as documents or media."""

    name = "builtin"

    async def scan(self, data: bytes, filename: str, mime_type: str) -> Verdict:
        if EICAR in data:
            return Verdict.infected("EICAR test signature")
        extension = os.path.splitext(filename)[1].lower().lstrip(".")
        if is_executable(mime_type) and extension in DOCUMENT_EXTENSIONS:
            return Verdict.infected(f"an executable ({mime_type}) named as a .{extension} file")
        return CLEAN


@dataclass(frozen=True)
class ClamAV:
    """clamd's INSTREAM command over TCP (`tcp://host:port`) or a Unix socket (a path)."""

    address: str
    timeout_s: float = 30.0
    name: str = "clamav"

    async def scan(self, data: bytes, filename: str, mime_type: str) -> Verdict:
        try:
            answer = await asyncio.wait_for(self._instream(data), self.timeout_s)
        except (OSError, TimeoutError, asyncio.IncompleteReadError) as error:
            raise ScanFailed(f"clamd unavailable ({type(error).__name__})") from error
        text = answer.rstrip(b"\0\n").decode("utf-8", "replace")
        if text.endswith(" OK"):
            return CLEAN
        if text.endswith(" FOUND"):
            signature = text.removeprefix("stream:").removesuffix(" FOUND").strip()
            return Verdict.infected(f"ClamAV: {signature}")
        raise ScanFailed(f"clamd answered {text[:200]!r}")

    async def _instream(self, data: bytes) -> bytes:
        if self.address.startswith("tcp://"):
            host, _, port = self.address.removeprefix("tcp://").rpartition(":")
            reader, writer = await asyncio.open_connection(host, int(port))
        else:
            reader, writer = await asyncio.open_unix_connection(self.address)
        try:
            writer.write(b"zINSTREAM\0")
            for start in range(0, len(data), CHUNK):
                chunk = data[start : start + CHUNK]
                writer.write(struct.pack(">I", len(chunk)) + chunk)
                await writer.drain()
            writer.write(struct.pack(">I", 0))
            await writer.drain()
            return await reader.readuntil(b"\0")
        finally:
            writer.close()


async def scan(scanners: Sequence[Scanner], data: bytes, filename: str, mime_type: str) -> Verdict:
    """The first scanner's finding, or clean when none finds anything; a scanner that fails
    quarantines the file."""
    for scanner in scanners:
        try:
            verdict = await scanner.scan(data, filename, mime_type)
        except ScanFailed as error:
            return Verdict.infected(f"not scanned: {scanner.name}: {error}")
        if not verdict.clean:
            return verdict
    return CLEAN


def configured(settings: Settings) -> list[Scanner]:
    """The built-in checks, then ClamAV when an address is set."""
    scanners: list[Scanner] = [BuiltinChecks()]
    if settings.clamav_address:
        scanners.append(ClamAV(settings.clamav_address, settings.clamav_timeout_s))
    return scanners
