"""Liveness with versions (`/healthz`) and readiness (`/readyz`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from personae import __version__
from personae.api.problems import problem
from personae.api.services import Shared
from personae.db import migrate
from personae.db.database import schema_revision

router = APIRouter(tags=["health"])

VERSIONS = text(
    "SELECT current_setting('server_version'), "
    "(SELECT extversion FROM pg_extension WHERE extname = 'vector')"
)


@router.get("/healthz", summary="Versions of the server, PostgreSQL, pgvector and the schema")
async def healthz(shared: Shared) -> Any:
    engine = shared.engine
    try:
        async with engine.connect() as conn:
            postgres, pgvector = (await conn.execute(VERSIONS)).one()
        revision = await schema_revision(engine)
    except (SQLAlchemyError, OSError) as exc:
        return problem(503, "Database unreachable", type(exc).__name__)
    head = migrate.head()
    return {
        "status": "ok",
        "version": __version__,
        "postgres": postgres,
        "pgvector": pgvector,
        "migration": {"current": revision, "head": head},
    }


@router.get("/readyz", summary="200 when the database is reachable and fully migrated")
async def readyz(shared: Shared) -> Any:
    try:
        revision = await schema_revision(shared.engine)
    except (SQLAlchemyError, OSError) as exc:
        return problem(503, "Database unreachable", type(exc).__name__)
    head = migrate.head()
    if revision != head:
        return problem(
            503,
            "Migrations pending",
            f"database at {revision}, code at {head}",
            current=revision,
            head=head,
        )
    return JSONResponse({"status": "ready", "migration": revision})
