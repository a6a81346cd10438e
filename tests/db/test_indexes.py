"""The vector and full-text indexes are not decoration: the planner uses them."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from personae.db.tenancy import bind_tenant
from tests.rows import RowFactory

CHUNKS = 3000


@pytest.fixture(scope="module")
async def tenant_with_chunks(owner_engine: AsyncEngine) -> uuid.UUID:
    factory = RowFactory()
    async with owner_engine.begin() as conn:
        await factory.seed_globals(conn)
        tenant = await factory.tenant(conn, "indexed")
        rows = await factory.seed(conn, tenant)
        document = rows["documents"][0]["id"]
        await conn.execute(
            text(
                "INSERT INTO chunks (tenant_id, document_id, chunk_index, text, embedding) "
                "SELECT :tenant, :document, g, 'passage ' || g || CASE WHEN g % 500 = 0 "
                "  THEN ' zeppelin' ELSE '' END, "
                "  (SELECT array_agg(random())::vector FROM generate_series(1, 384) d "
                "   WHERE s.g IS NOT NULL) "
                "FROM generate_series(1, :n) AS s(g)"
            ),
            {"tenant": tenant, "document": document, "n": CHUNKS},
        )
        await conn.execute(text("ANALYZE chunks"))
    return tenant


async def _plan(engine: AsyncEngine, tenant: uuid.UUID, query: str) -> str:
    async with engine.begin() as conn:
        await bind_tenant(conn, tenant)
        rows = (await conn.execute(text("EXPLAIN " + query))).scalars().all()
    return "\n".join(rows)


async def test_nearest_neighbour_query_uses_hnsw(
    tenant_with_chunks: uuid.UUID, app_engine: AsyncEngine
) -> None:
    vector = "[" + ",".join(["0.5"] * 384) + "]"
    plan = await _plan(
        app_engine,
        tenant_with_chunks,
        f"SELECT id FROM chunks ORDER BY embedding <=> '{vector}' LIMIT 10",
    )
    assert "ix_chunks_embedding_hnsw" in plan, plan


async def test_full_text_query_uses_gin(
    tenant_with_chunks: uuid.UUID, app_engine: AsyncEngine
) -> None:
    plan = await _plan(
        app_engine,
        tenant_with_chunks,
        "SELECT id FROM chunks WHERE text_tsv @@ websearch_to_tsquery('english', 'zeppelin')",
    )
    assert "ix_chunks_text_tsv_gin" in plan, plan


async def test_search_as_the_app_role_finds_rows(
    tenant_with_chunks: uuid.UUID, app_engine: AsyncEngine
) -> None:
    async with app_engine.begin() as conn:
        await bind_tenant(conn, tenant_with_chunks)
        found = (
            await conn.execute(
                text(
                    "SELECT count(*) FROM chunks "
                    "WHERE text_tsv @@ websearch_to_tsquery('english', 'zeppelins')"
                )
            )
        ).scalar_one()
    assert found == CHUNKS // 500
