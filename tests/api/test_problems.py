"""Errors the database raises for the input reach the client as problem+json, never a 500."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from personae.api import problems


async def test_a_null_the_schema_let_through_is_a_422_naming_the_column(
    owner_engine: AsyncEngine,
) -> None:
    async with owner_engine.begin() as conn:
        await conn.execute(text("CREATE TABLE IF NOT EXISTS needs_a_name (name text NOT NULL)"))
    app = FastAPI()
    problems.install(app)

    @app.post("/things")
    async def insert_nothing() -> None:
        async with owner_engine.begin() as conn:
            await conn.execute(text("INSERT INTO needs_a_name (name) VALUES (NULL)"))

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        answer = await client.post("/things")
    assert answer.status_code == 422
    assert answer.headers["content-type"] == problems.PROBLEM_JSON
    assert answer.json()["errors"] == [{"field": "name", "message": "name may not be null"}]
