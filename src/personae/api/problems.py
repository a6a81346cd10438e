"""RFC 9457 problem+json: every error leaves the API in this one shape.

Domain errors map by their `status`; request validation names the field at fault; anything
unexpected is a bare 500 with no internals (logged server-side, never echoed). Under the
OpenAI front door (`/openai/`) a problem also carries OpenAI's `error` object, where
OpenAI clients and SDKs read an error's message."""

from __future__ import annotations

import logging
import math
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from personae.api import services
from personae.db.errors import (
    CHECK_VIOLATION,
    CONNECTION_ERRORS,
    FOREIGN_KEY_VIOLATION,
    NOT_NULL_VIOLATION,
    UNIQUE_VIOLATION,
    is_invalid_data,
    is_unreachable,
    server_error,
    sqlstate,
)
from personae.db.outage import RETRY_AFTER_S
from personae.errors import PersonaeError, RateLimited, ValidationFailed

PROBLEM_JSON = "application/problem+json"
OPENAI_FRONT = "/openai/"
logger = logging.getLogger(__name__)


def problem(
    status: int, title: str, detail: str | None = None, *, path: str = "", **extra: Any
) -> JSONResponse:
    """The problem response; `path`: the request's, for OpenAI's `error` object under the
    front door."""
    if path.startswith(OPENAI_FRONT) and status == 422:
        status = 400  # as OpenAI answers a request it cannot take
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    if path.startswith(OPENAI_FRONT):
        body["error"] = _openai_error(body)
    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="personae"'
    if "retry_after" in extra:
        # rounded up: a client that waits as long as it is told is not refused again
        headers["Retry-After"] = str(max(1, math.ceil(extra["retry_after"])))
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


LOCATIONS = ("body", "query", "path", "header", "cookie")


def _field(location: tuple[Any, ...] | list[Any]) -> str:
    """`("body", "events", 0, "payload")` → `events.0.payload`: the place, not its part of
    the request (a field may itself be called `query`)."""
    located = list(location)
    parts = located[1:] if located and located[0] in LOCATIONS else located
    return ".".join(str(p) for p in parts) or str(located[0] if located else "")


async def _personae_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PersonaeError)
    extra: dict[str, Any] = {
        key: value
        for key, value in exc.extra.items()
        if key != "field" and isinstance(value, int | float | str | bool)
    }
    field = exc.field if isinstance(exc, ValidationFailed) else exc.extra.get("field")
    if field:
        extra["errors"] = [{"field": field, "message": exc.detail}]
    if isinstance(exc, RateLimited):
        extra["retry_after"] = exc.retry_after
    return problem(exc.status, exc.title, exc.detail, path=request.url.path, **extra)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"field": _field(_location(e)), "message": e.get("msg", "")} for e in exc.errors()]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return problem(422, "Validation failed", detail, path=request.url.path, errors=errors)


def _location(error: dict[str, Any]) -> tuple[Any, ...]:
    """Where an error lies: pydantic's location, and within it the place an input check
    names (`validation.Input`: a dotted path in its context)."""
    location = tuple(error.get("loc", ()))
    where = (error.get("ctx") or {}).get("where")
    if error.get("type") == "unstorable" and where and where != "body":
        location += tuple(where.split("."))
    return location


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else None
    return problem(exc.status_code, _title(exc.status_code), detail, path=request.url.path)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    if sqlstate(exc) == NOT_NULL_VIOLATION:  # a null the input schema let through
        column = getattr(server_error(exc), "column_name", None) or "a field"
        detail = f"{column} may not be null"
        errors = [{"field": column, "message": detail}]
        return problem(422, "Validation failed", detail, path=request.url.path, errors=errors)
    known = _known(exc)
    if known is None:
        logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        known = (500, "Internal error", None)
    return problem(*known, path=request.url.path)


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    """503 with Retry-After while the database cannot be reached (logged once per outage,
    by `Outage`); any other database error as `_unexpected` answers it."""
    if not is_unreachable(exc):
        return await _unexpected(request, exc)
    running = services.of(request.app)
    if running is not None:
        running.outage.failed(exc)
    detail = "the database cannot be reached just now; try again shortly"
    return problem(
        503, "Service unavailable", detail, path=request.url.path, retry_after=RETRY_AFTER_S
    )


def _known(exc: Exception) -> tuple[int, str, str | None] | None:
    """The problem an error that reached no handler is, when it is the client's or a race's."""
    if isinstance(exc, ClientDisconnect):  # nobody is listening (e.g. a refused body)
        return 400, "Client disconnected", None
    if is_invalid_data(exc):  # a safety net behind the input schemas' own limits
        return 422, "Validation failed", "the input holds values the database refuses"
    if sqlstate(exc) == UNIQUE_VIOLATION:  # two writers raced past a service's own check
        return 409, "Conflict", "this conflicts with an existing record; try again"
    if sqlstate(exc) == FOREIGN_KEY_VIOLATION:
        return 422, "Validation failed", "the input refers to something that does not exist"
    if sqlstate(exc) == CHECK_VIOLATION:  # a rule the service did not check first
        constraint = getattr(server_error(exc), "constraint_name", None)
        return 422, "Validation failed", f"the input breaks the rule {constraint or 'of a record'}"
    return None


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _openai_error(problem: dict[str, Any]) -> dict[str, Any]:
    """OpenAI's `error` object for a problem: where OpenAI clients read its message."""
    status = problem["status"]
    if status == 429:
        kind = "rate_limit_error"
    elif status < 500:
        kind = "invalid_request_error"
    else:
        kind = "server_error"
    errors = problem.get("errors") or [{}]
    return {
        "message": problem.get("detail") or problem["title"],
        "type": kind,
        "param": errors[0].get("field"),
        "code": problem.get("code"),
    }


def install(app: FastAPI) -> None:
    app.add_exception_handler(PersonaeError, _personae_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    for error in CONNECTION_ERRORS:  # before `Exception`'s, which would log and re-raise
        app.add_exception_handler(error, _database_error)
    app.add_exception_handler(Exception, _unexpected)
