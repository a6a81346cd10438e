"""Statements built once (a textual statement's binds are parsed and its cache key made
when it is first seen, not on every execution), and what their results say."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, cast

from sqlalchemy import CursorResult, Result, TextClause, text


@lru_cache(maxsize=512)
def cached_text(statement: str) -> TextClause:
    """`text(statement)`, one object per distinct statement (assembled statements come in
    a few shapes only)."""
    return text(statement)


def rowcount(result: Result[Any]) -> int:
    """The rows an UPDATE or DELETE touched (what `session.execute` returns for one is a
    cursor result, whatever its declared type)."""
    return cast(CursorResult[Any], result).rowcount
