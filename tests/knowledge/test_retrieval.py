"""Retrieval in the database: a tenant with a sliver of the table still gets k results
from the HNSW index (the over-filtering trap), and the search is one statement."""

from __future__ import annotations

import random
import uuid

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from personae.db.engine import DatabaseUrls, create_engine, sessionmaker
from personae.db.tenancy import tenant_session
from personae.kernel.principal import Principal
from personae.knowledge.search import Request, search
from personae.providers.embeddings import HashingEmbedder, label
from personae.settings import Settings
from tests.api.conftest import new_tenant

EMBEDDER = HashingEmbedder(384)
FILL = text(
    "INSERT INTO chunks (tenant_id, document_id, chunk_index, text, embedding, embedding_model) "
    "SELECT :tenant, :document, i, 'chunk ' || i, "
    "(SELECT array_agg(random() - 0.5)::vector FROM generate_series(1, 384) WHERE i > 0), :model "
    "FROM generate_series(1, :n) AS i"
)


async def _tenant_with_chunks(
    owner_engine: AsyncEngine, app_engine: AsyncEngine, name: str, n: int
) -> uuid.UUID:
    created = await new_tenant(owner_engine, app_engine, name, f"owner@{name}.example.com")
    tenant = created.tenant.id
    document = uuid.uuid4()
    async with owner_engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO documents (tenant_id, id, name) VALUES (:t, :d, 'x')"),
            {"t": tenant, "d": document},
        )
        await conn.execute(
            FILL, {"tenant": tenant, "document": document, "model": label(EMBEDDER), "n": n}
        )
    return tenant


async def test_a_tenant_with_one_percent_of_the_chunks_still_gets_k_results_from_hnsw(
    urls: DatabaseUrls, owner_engine: AsyncEngine, app_engine: AsyncEngine
) -> None:
    await _tenant_with_chunks(owner_engine, app_engine, "large", 1980)
    small = await _tenant_with_chunks(owner_engine, app_engine, "small", 2000)
    async with owner_engine.begin() as conn:
        # The planner takes an exact scan for a tenant it knows to be small, which can't
        # fall into the trap. Make it believe the tenant is half the table (statistics
        # gathered before most of its rows go), so it takes the HNSW index.
        await conn.execute(text("ALTER TABLE chunks SET (autovacuum_enabled = false)"))
        await conn.execute(text("ANALYZE chunks"))
        await conn.execute(
            text("DELETE FROM chunks WHERE tenant_id = :t AND chunk_index > 20"), {"t": small}
        )

    # as the product connects; a small ef_search makes the index cheap in the planner's eyes,
    # as a large table does
    engine = create_engine(urls.app, Settings(search_ef=40))
    statements: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    sessions = sessionmaker(engine)
    rng = random.Random(7)
    try:
        for trap in (True, False):
            query = [rng.random() - 0.5 for _ in range(384)]
            async with tenant_session(sessions, small) as session:
                await session.execute(text("SET LOCAL enable_seqscan = off"))  # use the index
                if trap:  # what plain HNSW does: filter after taking ef_search candidates
                    await session.execute(text("SET LOCAL hnsw.iterative_scan = off"))
                asked = Request("chunk", mode="vector", k=10)
                statements.clear()
                hits = await search(session, Principal.system(small), EMBEDDER, asked, vector=query)
                assert len(statements) == 1  # one round trip
                sql, params = asked.compiled(Principal.system(small), label(EMBEDDER), query)
                plan = await session.execute(text("EXPLAIN " + sql), params)
                shown = "\n".join(plan.scalars())
                assert "ix_chunks_embedding_hnsw" in shown
            if trap:
                assert len(hits) < 10, "the trap did not spring: the test proves nothing"
            else:
                assert len(hits) == 10
                similarities = [h.similarity for h in hits if h.similarity is not None]
                assert len(similarities) == 10
                assert similarities == sorted(similarities, reverse=True)
    finally:
        await engine.dispose()
