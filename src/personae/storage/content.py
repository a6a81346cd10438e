"""What a file is, from its bytes (a client's word for it is never taken)."""

from __future__ import annotations

import puremagic

EXECUTABLES: tuple[tuple[bytes, str], ...] = (
    (b"MZ", "application/x-msdownload"),
    (b"\x7fELF", "application/x-executable"),
    (b"\xfe\xed\xfa\xce", "application/x-mach-binary"),
    (b"\xfe\xed\xfa\xcf", "application/x-mach-binary"),
    (b"\xce\xfa\xed\xfe", "application/x-mach-binary"),
    (b"\xcf\xfa\xed\xfe", "application/x-mach-binary"),
    (b"#!", "text/x-shellscript"),
)
EXECUTABLE_TYPES = frozenset(kind for _, kind in EXECUTABLES)
SNIFF_BYTES = 8192


def detect_mime(data: bytes) -> str:
    """The MIME type of `data` by its signature; text/plain for UTF-8 text, else
    application/octet-stream."""
    for magic, kind in EXECUTABLES:
        if data.startswith(magic):
            return kind
    try:
        found = str(
            puremagic.from_string(
                data[:SNIFF_BYTES] if len(data) > SNIFF_BYTES else data, mime=True
            )
        )
    except (puremagic.PureError, ValueError):
        found = ""
    if found:
        return found
    try:
        data[:SNIFF_BYTES].decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < SNIFF_BYTES - 4:  # not a character cut at the end of the sample
            return "application/octet-stream"
    return "text/plain"


def is_executable(mime_type: str) -> bool:
    return mime_type in EXECUTABLE_TYPES
