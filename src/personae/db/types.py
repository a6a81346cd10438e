"""Column types and id generation shared by every model."""

from __future__ import annotations

import os
import threading
import time
import uuid
from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import ARRAY, Text
from sqlalchemy.dialects.postgresql import TSVECTOR, UUID
from sqlalchemy.types import UserDefinedType

EMBEDDING_DIMS = 384
"""Dimensions of every embedding column: the default local model (all-MiniLM-L6-v2).

A model of other dimensions is adopted by a migration that adds a column of its size;
rows always record the model that produced their vector."""

__all__ = ["EMBEDDING_DIMS", "FLOATS", "TEXTS", "TSVECTOR", "UUIDS", "Vector", "uuid7"]


class _Floats(UserDefinedType[list[float]]):
    """`real[]`, read as the driver decodes it (a list of floats), with no per-item pass:
    a vector cast to it is read many times faster than as text."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "real[]"


FLOATS = _Floats()
UUIDS = ARRAY(UUID(as_uuid=True))
"""`uuid[]`: to pass many ids as one parameter (`= any(...)`: one statement whatever their
number, where `IN (...)` makes a statement for each count)."""
TEXTS = ARRAY(Text)
"""`text[]`, likewise for strings."""


_lock = threading.Lock()
_last = [0, 0]  # unix_ms, counter of the last id made
_random = bytearray()
"""Random bytes read ahead from the OS (one read for many ids, not one each); a forked
child draws its own."""
os.register_at_fork(after_in_child=_random.clear)


def uuid7() -> uuid.UUID:
    """A time-ordered UUID, version 7 (RFC 9562): 48 bits of Unix milliseconds, a 12-bit
    counter (monotonic within a millisecond in this process, method 3), then randomness."""
    with _lock:
        unix_ms = time.time_ns() // 1_000_000
        if unix_ms > _last[0]:
            _last[0], _last[1] = unix_ms, int.from_bytes(os.urandom(2), "big") & 0x7FF
        else:  # same millisecond, or the clock stepped back: count on from the last id
            _last[1] += 1
            if _last[1] > 0xFFF:
                _last[0], _last[1] = _last[0] + 1, 0
        unix_ms, counter = _last
        if not _random:
            _random.extend(os.urandom(4096))
        drawn = _random[-8:]
        del _random[-8:]
    rand_b = int.from_bytes(drawn, "big") & 0x3FFF_FFFF_FFFF_FFFF
    value = (unix_ms & 0xFFFF_FFFF_FFFF) << 80 | 0x7 << 76 | counter << 64 | 0b10 << 62 | rand_b
    return uuid.UUID(int=value)
