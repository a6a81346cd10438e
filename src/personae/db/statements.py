"""Statements built once: a textual statement's binds are parsed and its cache key made
when it is first seen, not on every execution."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import TextClause, text


@lru_cache(maxsize=512)
def cached_text(statement: str) -> TextClause:
    """`text(statement)`, one object per distinct statement (assembled statements come in
    a few shapes only)."""
    return text(statement)
