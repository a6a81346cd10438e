"""Column types and id generation shared by every model."""

from __future__ import annotations

import os
import time
import uuid

from pgvector.sqlalchemy import Vector
from sqlalchemy.dialects.postgresql import TSVECTOR

EMBEDDING_DIMS = 384
"""Dimensions of every embedding column: the default local model (all-MiniLM-L6-v2).

A model of other dimensions is adopted by a migration that adds a column of its size;
rows always record the model that produced their vector."""

__all__ = ["EMBEDDING_DIMS", "TSVECTOR", "Vector", "uuid7"]


def uuid7() -> uuid.UUID:
    """A time-ordered UUID, version 7 (RFC 9562): 48 bits of Unix milliseconds, then randomness."""
    unix_ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (unix_ms & 0xFFFF_FFFF_FFFF) << 80
    value |= 0x7 << 76  # version
    value |= ((rand >> 62) & 0xFFF) << 64  # rand_a
    value |= 0b10 << 62  # variant
    value |= rand & 0x3FFF_FFFF_FFFF_FFFF  # rand_b
    return uuid.UUID(int=value)
