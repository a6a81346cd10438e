"""Recognising database errors caused by the data sent, not by the server or the code."""

from __future__ import annotations

import asyncpg
from sqlalchemy.exc import DBAPIError

INT4_MAX = 2_147_483_647
BIGINT_MAX = 9_223_372_036_854_775_807


DATABASE_ERRORS = (DBAPIError, asyncpg.PostgresError)
"""What a statement raises: through SQLAlchemy, or straight from the driver (`db.direct`)."""


def is_invalid_data(exc: BaseException) -> bool:
    """True for SQLSTATE class 22 (data exception) and values the driver refuses to encode."""
    if isinstance(exc, UnicodeEncodeError):
        return True
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        exc = exc.orig.__cause__ or exc.orig
    return sqlstate(exc).startswith("22") or isinstance(exc, asyncpg.DataError)


def server_error(exc: BaseException) -> asyncpg.PostgresError | None:
    """The server's error behind `exc`, raised directly or wrapped by SQLAlchemy."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        exc = exc.orig.__cause__ or exc.orig
    return exc if isinstance(exc, asyncpg.PostgresError) else None


def sqlstate(exc: BaseException) -> str:
    """The SQLSTATE of a database error ('' for anything else)."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        return str(getattr(exc.orig, "sqlstate", "") or "")
    return str(getattr(server_error(exc), "sqlstate", "") or "")


NOT_NULL_VIOLATION = "23502"
UNIQUE_VIOLATION = "23505"
FOREIGN_KEY_VIOLATION = "23503"
CHECK_VIOLATION = "23514"
