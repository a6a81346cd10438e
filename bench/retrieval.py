"""Retrieval: latency and recall at 100,000 chunks, quality on real conversations, and
ingestion throughput, each against its raw limit, in one run.

- latency and recall: 100,000 chunks of 384 dimensions across 10 tenants (clustered
  synthetic vectors, words drawn from each cluster's vocabulary). Hybrid search through
  our service (`knowledge.search`, as the app role, tenant-bound) vs the bare pgvector
  query `ORDER BY embedding <=> q LIMIT 10` on the same tenant's rows; recall@10 of our
  vector mode against an exact scan.
- quality: every turn of `../shared/data/locomo-dev.json` ingested through the product
  (one Markdown document per conversation, one chunk per turn, the `minilm` model); for
  each question with evidence, the share of its evidence turns in the top 5 and 10, per
  mode and per category.
- ingestion: chunks per second from upload to `completed` (queue, extraction, chunking,
  embedding, writes) vs the embedder alone on the same texts.

    python bench/retrieval.py [--chunks 100000] [--queries 200] [--locomo PATH]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import asyncpg
import numpy as np
from sqlalchemy import text as sql_text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from personae.db.engine import DatabaseUrls, create_engine, sessionmaker
from personae.db.tenancy import tenant_session
from personae.identity.service import create_tenant, sync_permissions
from personae.jobs import JobDeps, Queue
from personae.kernel.principal import Principal
from personae.knowledge import documents
from personae.knowledge.ingest import embedded_text
from personae.knowledge.models import Chunk, Document
from personae.knowledge.search import Filters, Request, search
from personae.providers.embeddings import Embedders, HashingEmbedder, label
from personae.retrieval import chunking
from personae.retrieval.hybrid import Mode
from personae.settings import Settings
from personae.tasks import TASKS, WorkerServices
from throwaway import measure_and_report

DIMS = 384
INCOMING = (
    "id uuid, tenant_id uuid, document_id uuid, chunk_index int, text text, "
    "embedding text, embedding_model text"
)
LOAD = (
    "INSERT INTO chunks (id, tenant_id, document_id, chunk_index, text, embedding, "
    "embedding_model) SELECT id, tenant_id, document_id, chunk_index, text, "
    "embedding::vector, embedding_model FROM incoming"
)
TENANTS = 10
CLUSTERS = 50
NOISE = 0.6
LOCOMO = Path(__file__).resolve().parents[2] / "shared" / "data" / "locomo-dev.json"


def _driver_url(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


def _quantiles(samples: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(samples, n=100)
    return round(statistics.median(samples), 3), round(cuts[94], 3), round(cuts[98], 3)


async def _tenants(urls: DatabaseUrls, n: int) -> list[uuid.UUID]:
    owner = create_async_engine(urls.owner, poolclass=NullPool)
    async with owner.begin() as conn:
        await sync_permissions(conn)
    made = []
    for i in range(n):
        async with sessionmaker(owner)() as s, s.begin():
            made.append((await create_tenant(s, f"Bench {i}", f"b{i}@example.com")).tenant.id)
    await owner.dispose()
    return made


# -- latency and recall ------------------------------------------------------------------


def _corpus(
    n: int, noise: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, list[list[str]]]:
    centres = rng.normal(size=(CLUSTERS, DIMS)).astype(np.float32)
    cluster = rng.integers(0, CLUSTERS, size=n)
    vectors = centres[cluster] + rng.normal(scale=noise, size=(n, DIMS)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    vocabulary = [[f"w{c}x{i}" for i in range(40)] for c in range(CLUSTERS)]
    return vectors, cluster, vocabulary


async def latency(
    urls: DatabaseUrls, tenants: list[uuid.UUID], args: argparse.Namespace
) -> dict[str, Any]:
    rng = np.random.default_rng(11)
    vectors, cluster, vocabulary = _corpus(args.chunks, args.noise, rng)
    owner = await asyncpg.connect(_driver_url(urls.owner))
    model = label(HashingEmbedder(DIMS))
    owned_by = [tenants[i % TENANTS] for i in range(args.chunks)]
    documents_of = {t: uuid.uuid4() for t in tenants}
    for tenant, document in documents_of.items():
        await owner.execute(
            "INSERT INTO documents (tenant_id, id, name) VALUES ($1, $2, 'bench')",
            tenant,
            document,
        )
    started = time.perf_counter()
    await owner.execute("DROP INDEX ix_chunks_embedding_hnsw")
    ids = [uuid.uuid4() for _ in range(args.chunks)]
    words = rng.integers(0, 40, size=(args.chunks, 12))
    records = [
        (
            ids[i],
            owned_by[i],
            documents_of[owned_by[i]],
            i,
            " ".join(vocabulary[cluster[i]][w] for w in words[i]),
            "[" + ",".join(f"{x:.6f}" for x in vectors[i]) + "]",
            model,
        )
        for i in range(args.chunks)
    ]
    await owner.execute(f"CREATE TEMP TABLE incoming ({INCOMING})")
    await owner.copy_records_to_table("incoming", records=records)
    await owner.execute(LOAD)
    await owner.execute("SET maintenance_work_mem = '1GB'")
    await owner.execute(
        "CREATE INDEX ix_chunks_embedding_hnsw ON chunks USING hnsw (embedding vector_cosine_ops)"
    )
    await owner.execute("ANALYZE chunks")
    load_s = time.perf_counter() - started

    settings = Settings(pool_size=2, search_ef=args.ef)
    engine = create_engine(urls.app, settings)
    sessions = sessionmaker(engine)
    embedder = HashingEmbedder(DIMS)
    picks = rng.integers(0, args.chunks, size=args.queries)
    queries = []
    for i in picks:
        q = vectors[i] + rng.normal(scale=0.5 / DIMS**0.5, size=DIMS).astype(np.float32)
        q /= np.linalg.norm(q)
        text = " ".join(rng.choice(vocabulary[cluster[i]], size=3))
        queries.append((owned_by[i], [float(x) for x in q], text))

    async def ours(
        tenant: uuid.UUID, q: list[float], text: str, mode: Mode, timings: list[float] | None = None
    ) -> list[uuid.UUID]:
        """Our search in a tenant-bound transaction, as a request makes it; `timings` gets
        the search alone (the transaction's own cost is `bound_transaction_p50_ms`)."""
        async with tenant_session(sessions, tenant) as session:
            await session.execute(sql_text("SELECT 1"))  # begun and bound, as in a request
            t = time.perf_counter()
            hits = await search(
                session,
                Principal.system(tenant),
                embedder,
                Request(text, mode=mode, k=10),
                vector=q,
            )
            if timings is not None:
                timings.append((time.perf_counter() - t) * 1000)
        return [h.chunk_id for h in hits]

    raw_sql = (
        "SELECT id FROM chunks WHERE tenant_id = $2 ORDER BY embedding <=> $1::vector LIMIT 10"
    )
    exact_sql = raw_sql  # under enable_indexscan = off
    raw = await asyncpg.connect(
        _driver_url(urls.owner),
        # the index settings our connections run with: the ratio is what our code adds
        server_settings={"hnsw.iterative_scan": "relaxed_order", "hnsw.ef_search": str(args.ef)},
    )
    for tenant, q, text in queries[:20]:  # warm both paths
        await ours(tenant, q, text, "hybrid")
        await raw.fetch(raw_sql, "[" + ",".join(map(str, q)) + "]", tenant)
    if args.explain:
        tenant, q, text = queries[0]
        sql, params = Request(text, k=10).compiled(Principal.system(tenant), model, q)
        async with tenant_session(sessions, tenant) as session:
            plan = await session.execute(sql_text("EXPLAIN (ANALYZE, BUFFERS) " + sql), params)
            print("\n".join(line[:160] for line in plan.scalars()))
    hybrid_ms: list[float] = []
    vector_ms: list[float] = []
    text_ms: list[float] = []
    raw_ms: list[float] = []
    bound_ms: list[float] = []
    recalls: list[float] = []
    for tenant, q, text in queries:
        literal = "[" + ",".join(map(str, q)) + "]"
        await ours(tenant, q, text, "hybrid", hybrid_ms)
        await ours(tenant, q, text, "vector", vector_ms)
        await ours(tenant, q, text, "text", text_ms)
        t = time.perf_counter()
        await raw.fetch(raw_sql, literal, tenant)
        raw_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        async with tenant_session(sessions, tenant) as session:  # the transaction alone
            await session.execute(sql_text("SELECT 1"))
        bound_ms.append((time.perf_counter() - t) * 1000)
    exact = await asyncpg.connect(
        _driver_url(urls.owner), server_settings={"enable_indexscan": "off"}
    )
    for tenant, q, text in queries:
        literal = "[" + ",".join(map(str, q)) + "]"
        truth = {r["id"] for r in await exact.fetch(exact_sql, literal, tenant)}
        found = set(await ours(tenant, q, text, "vector"))
        recalls.append(len(truth & found) / len(truth))
    await exact.close()
    await raw.close()
    await owner.close()
    await engine.dispose()
    p50, p95, _ = _quantiles(hybrid_ms)
    raw_p50, raw_p95, _ = _quantiles(raw_ms)
    vector_p50, vector_p95, _ = _quantiles(vector_ms)
    return {
        "chunks": args.chunks,
        "load_and_index_s": round(load_s, 1),
        "search_p50_ms": p50,
        "search_p95_ms": p95,
        "vector_search_p50_ms": vector_p50,
        "vector_search_p95_ms": vector_p95,
        "text_search_p50_ms": _quantiles(text_ms)[0],
        "text_search_p95_ms": _quantiles(text_ms)[1],
        "ef_search": args.ef,
        "bound_transaction_p50_ms": _quantiles(bound_ms)[0],
        "raw_p50_ms": raw_p50,
        "raw_p95_ms": raw_p95,
        "latency_ratio": round(p95 / raw_p95, 2),
        "ann_recall_at_10": round(statistics.mean(recalls), 4),
    }


# -- quality and ingestion ---------------------------------------------------------------


def _conversation_markdown(sample: dict[str, Any]) -> str:
    talk = sample["conversation"]
    parts = []
    n = 1
    while f"session_{n}" in talk:
        when = talk.get(f"session_{n}_date_time", "")
        for turn in talk[f"session_{n}"]:
            said = turn["text"]
            if turn.get("blip_caption"):
                said += f" [shares a photo: {turn['blip_caption']}]"
            parts.append(f"## {turn['dia_id']} ({when})\n\n{turn['speaker']}: {said}")
        n += 1
    return "\n\n".join(parts)


async def quality(
    urls: DatabaseUrls, tenant: uuid.UUID, samples: list[dict[str, Any]]
) -> dict[str, Any]:
    settings = Settings(pool_size=4, embedder="minilm", worker_concurrency=1)
    embedders = Embedders(settings)
    embedder = embedders.default
    engine = create_engine(urls.app, settings)
    sessions = sessionmaker(engine)
    principal = Principal.system(tenant)
    markdown = {s["sample_id"]: _conversation_markdown(s) for s in samples}

    # the embedder alone, on exactly the texts ingestion embeds (model loaded first)
    texts = [
        embedded_text(piece)
        for text in markdown.values()
        for piece in chunking.split(
            text, size=settings.chunk_tokens, overlap=settings.chunk_overlap_tokens
        )
    ]
    await embedder.embed(texts[:8])
    started = time.perf_counter()
    for i in range(0, len(texts), settings.embedding_batch_size):
        await embedder.embed(texts[i : i + settings.embedding_batch_size])
    embed_s = time.perf_counter() - started

    queue = Queue(urls.app, settings, TASKS)
    await queue.open()
    started = time.perf_counter()
    ids = {}
    for sample_id, text in markdown.items():
        async with tenant_session(sessions, tenant) as session:
            row = await documents.upload(session, principal, f"{sample_id}.md", text.encode())
            ids[sample_id] = row.id
    await queue.run_worker(JobDeps(sessions, settings, WorkerServices(embedders)), wait=False)
    ingest_s = time.perf_counter() - started
    await queue.close()

    async with tenant_session(sessions, tenant) as session:
        from sqlalchemy import func, select

        statuses = (
            (await session.execute(select(Document.status).where(Document.id.in_(ids.values()))))
            .scalars()
            .all()
        )
        assert set(statuses) == {"completed"}, statuses
        rows = (await session.execute(select(Chunk.id, Chunk.metadata_))).all()
        stored = (await session.execute(select(func.count()).select_from(Chunk))).scalar_one()
    assert stored == len(texts), (stored, len(texts))
    dia_of = {row[0]: row[1]["headings"][0].split(" ")[0] for row in rows}

    questions = [(s["sample_id"], q) for s in samples for q in s["qa"] if q.get("evidence")]
    vectors = await embedder.embed([q["question"] for _, q in questions])
    modes: tuple[Mode, ...] = ("vector", "text", "hybrid")
    found: dict[Mode, dict[tuple[str, int], list[float]]] = {m: defaultdict(list) for m in modes}
    for (sample_id, q), vector in zip(questions, vectors, strict=True):
        evidence = set(q["evidence"])
        for mode in found:
            async with tenant_session(sessions, tenant) as session:
                hits = await search(
                    session,
                    principal,
                    embedder,
                    Request(
                        q["question"], mode=mode, k=10, filters=Filters(document_id=ids[sample_id])
                    ),
                    vector=vector,
                )
            ranked = [dia_of[h.chunk_id] for h in hits]
            for k in (5, 10):
                share = len(evidence & set(ranked[:k])) / len(evidence)
                found[mode][("all", k)].append(share)
                found[mode][(str(q["category"]), k)].append(share)
    await engine.dispose()
    figures: dict[str, Any] = {
        "locomo_questions": len(questions),
        "locomo_turns": len(texts),
        "ingest_chunks_per_s": round(len(texts) / ingest_s, 1),
        "embedder_chunks_per_s": round(len(texts) / embed_s, 1),
        "ingest_overhead": round((ingest_s - embed_s) / embed_s, 3),
    }
    for mode, cells in found.items():
        for k in (5, 10):
            figures[f"{mode}_recall_at_{k}"] = round(statistics.mean(cells[("all", k)]), 4)
    figures["recall_at_10_by_category"] = {
        mode: {
            category: round(statistics.mean(cells[(category, 10)]), 3)
            for category in sorted({c for c, _ in cells if c != "all"})
        }
        for mode, cells in found.items()
    }
    figures["hybrid_beats_both"] = all(
        figures[f"hybrid_recall_at_{k}"]
        > max(figures[f"vector_recall_at_{k}"], figures[f"text_recall_at_{k}"])
        for k in (5, 10)
    )
    return figures


async def run(urls: DatabaseUrls, args: argparse.Namespace) -> dict[str, Any]:
    tenants = await _tenants(urls, TENANTS + 1)
    figures: dict[str, Any] = {}
    if "quality" in args.parts:
        figures |= await quality(urls, tenants[-1], json.loads(args.locomo.read_text()))
    if "latency" in args.parts:
        figures |= await latency(urls, tenants[:TENANTS], args)
    figures["targets"] = {
        "search_p95_ms": 20,
        "latency_ratio": 2.0,
        "ann_recall_at_10": 0.95,
        "ingest_overhead": 0.15,
    }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--locomo", type=Path, default=LOCOMO)
    parser.add_argument("--parts", default="quality,latency", help="which parts to run")
    parser.add_argument("--explain", action="store_true", help="print one search's plan")
    parser.add_argument("--ef", type=int, default=Settings().search_ef, help="hnsw.ef_search")
    parser.add_argument("--noise", type=float, default=NOISE, help="spread within clusters")
    args = parser.parse_args()
    random.seed(5)
    measure_and_report(lambda urls: run(urls, args))


if __name__ == "__main__":
    main()
