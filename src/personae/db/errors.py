"""Recognising database errors caused by the data sent, not by the server or the code."""

from __future__ import annotations

import asyncpg
from sqlalchemy.exc import DBAPIError

INT4_MAX = 2_147_483_647
BIGINT_MAX = 9_223_372_036_854_775_807


def is_invalid_data(exc: BaseException) -> bool:
    """True for SQLSTATE class 22 (data exception) and values the driver refuses to encode."""
    if isinstance(exc, UnicodeEncodeError):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    cause = exc.orig.__cause__ if exc.orig is not None else None
    return sqlstate(exc).startswith("22") or isinstance(cause, asyncpg.DataError)


def sqlstate(exc: BaseException) -> str:
    """The SQLSTATE of a database error ('' for anything else)."""
    if not isinstance(exc, DBAPIError) or exc.orig is None:
        return ""
    return str(getattr(exc.orig, "sqlstate", "") or "")


UNIQUE_VIOLATION = "23505"
FOREIGN_KEY_VIOLATION = "23503"
