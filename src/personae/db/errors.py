"""Recognising database errors caused by the data sent, not by the server or the code."""

from __future__ import annotations

from collections.abc import Iterator

import asyncpg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

INT4_MAX = 2_147_483_647
BIGINT_MAX = 9_223_372_036_854_775_807


DATABASE_ERRORS = (DBAPIError, asyncpg.PostgresError)
"""What a statement raises: through SQLAlchemy, or straight from the driver (`db.calls`)."""

CONNECTION_ERRORS = (*DATABASE_ERRORS, asyncpg.InterfaceError, PoolTimeout, OSError)
"""What may be raised when the database cannot be reached (see `is_unreachable`)."""
_SERVER_GONE = {"57P01", "57P02", "57P03"}  # shut down, crashed, starting: not accepting


def is_unreachable(exc: BaseException) -> bool:
    """True when `exc` says the database cannot be reached now (refused, gone away, shutting
    down, the pool exhausted), not that a statement was wrong."""
    for error in _chain(exc):
        state = sqlstate(error)
        if state.startswith("08") or state in _SERVER_GONE:
            return True
        if isinstance(error, DBAPIError) and error.connection_invalidated:
            return True
        if isinstance(error, asyncpg.InterfaceError | PoolTimeout):
            return True
        if isinstance(error, OSError) and _raised_by_the_driver(error):
            return True
    return False


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _raised_by_the_driver(error: OSError) -> bool:
    """An OSError (refused, no socket, timed out) from connecting, not from a file."""
    frame = error.__traceback__
    while frame is not None:
        module = str(frame.tb_frame.f_globals.get("__name__", ""))
        if module.startswith(("asyncpg", "sqlalchemy")):
            return True
        frame = frame.tb_next
    return False


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
