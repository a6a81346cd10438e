"""Memory: recall on real conversations, memory search vs plain vector search.

- quality: every turn of `../shared/data/locomo-dev.json` stored as a TURN episode (text
  `"{speaker}: {text}"`, its session's date as the time it happened, one session per
  conversation as the scope, the `minilm` model); for every question of categories 1-4,
  the share of its evidence turns in the top 10 of our memory search and of plain vector
  search (nearest episode vectors, nothing else) over the same episodes, overall and per
  category.

  `determinism`: the share of questions whose top 10 is the same, in the same order, when
  asked again after a restart (new connections, a new embedder).
- session: the real path (`memory_paths.session_path`): each conversation a persona, each
  of its sessions a session, its turns appended as messages with their speaker and date,
  remembered and summarised as the worker does; each question searched as the persona's
  turn searches (`session_path_recall_at_10`, per category, and how many summaries take
  places in the top 10).
- batch: 10,000 episodes written through the batch path (`memory.episodes.write_many`,
  one statement) vs a bare COPY of the same rows (`episodes_batch_per_s`,
  `raw_copy_per_s`).
- latency: 100,000 episodes in one tenant (clustered synthetic vectors, words drawn from
  each cluster's vocabulary, spread over a year); memory search through our service (the
  query's vector given, facts included) vs the bare `ORDER BY embedding <=> q LIMIT 10`
  on the tenant's episodes, p50 / p95 and the ratio.
- facts: facts stored through the deterministic path (`memory.facts.record`, 100 a
  transaction: entity resolution, contradiction checks, audit) vs a bare INSERT of the
  rows it stored (more rows than facts: a contradiction cuts a fact short, recorded anew),
  every column as stored, one per row, in one transaction, through the driver, vectors
  sent as binary float arrays as ours are, into an empty twin of the table (its columns,
  indexes, checks and foreign keys: in the table itself, each vector would be there
  already) (`raw_facts_per_s`: those facts a second, the time the bare INSERT of their
  rows took; `facts_ratio`: the bare INSERT's time over ours). Then again, separately
  named, at 1,000 facts a transaction (`facts_per_s_1000`, `raw_facts_per_s_1000`,
  `facts_ratio_1000`: a request may hold 10,000), the same facts in another tenant, the
  first run's rows deleted and vacuumed away.

Each part measures from a settled heap (`startup.settle_heap`, as `personae serve` settles
its own once its model is loaded; the latency part once its rows are loaded): what came
before (the model, the LoCoMo data, the rows sent to the database) is not walked again by
a full collection of the garbage collector inside its measurements (200-230 ms a pass
here, once the model is loaded).

    python bench/memory.py [--parts quality,session,batch,facts,latency] [--episodes 100000]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
import uuid
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import numpy as np
from sqlalchemy import select
from sqlalchemy import text as sql_text

from memory_paths import batch_write, session_path
from personae.db.engine import DatabaseUrls, create_engine, sessionmaker
from personae.db.tenancy import tenant_session
from personae.kernel.principal import Principal
from personae.memory.episodes import EPISODES
from personae.memory.facts import FactInput, record
from personae.memory.models import Episode
from personae.memory.resolution import EntityRef
from personae.memory.search import MemoryQuery, Weights, search
from personae.memory.writing import embed_pending
from personae.providers.embeddings import Embedders, HashingEmbedder, label
from personae.sessions.models import Session
from personae.settings import Settings
from personae.startup import settle_heap
from throwaway import measure_and_report, new_tenant

PER_REQUEST = 100
"""Facts a transaction in the facts part."""
LARGE_REQUEST = 1000
"""Facts a transaction in its second, separately named run (`facts_ratio_1000`...)."""
FACT_FIGURES = ("facts_per_s", "raw_facts_per_s", "facts_ratio")
LOCOMO = Path(__file__).resolve().parents[2] / "shared" / "data" / "locomo-dev.json"
CATEGORIES = ("1", "2", "3", "4")
PLAIN_VECTOR = Weights(importance=0, recency=0, graph=0, neighbour=0, when=0)
"""Nearest vectors and nothing else: the baseline."""


DIMS = 384
CLUSTERS = 50
NOISE = 0.6
INCOMING = (
    "id uuid, tenant_id uuid, content text, embedding text, embedding_model text, "
    "occurred_at timestamptz"
)
LOAD = (
    "INSERT INTO episodes (id, tenant_id, episode_type, content, embedding, embedding_model, "
    "embedding_status, occurred_at, valid_from) SELECT id, tenant_id, 'TURN', content, "
    "embedding::vector, embedding_model, 'embedded', occurred_at, occurred_at FROM incoming"
)


async def _tenant(urls: DatabaseUrls, name: str = "Memory bench") -> uuid.UUID:
    return (await new_tenant(urls, name, f"{uuid.uuid4().hex[:8]}@example.com")).tenant.id


def _driver_url(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


def _quantiles(samples: list[float]) -> tuple[float, float]:
    return round(statistics.median(samples), 3), round(statistics.quantiles(samples, n=100)[94], 3)


def _when(stamp: str) -> datetime:
    """LoCoMo's `1:56 pm on 8 May, 2023`."""
    return datetime.strptime(stamp, "%I:%M %p on %d %B, %Y").astimezone()


def _sessions(sample: dict[str, Any]) -> list[list[tuple[str, str, str, datetime]]]:
    """A conversation's sessions: (dia_id, speaker, text, when) of each turn, `when` its
    session's date (the protocol: the text as said, nothing added)."""
    talk = sample["conversation"]
    found = []
    n = 1
    while f"session_{n}" in talk:
        when = _when(talk[f"session_{n}_date_time"])
        found.append([(t["dia_id"], t["speaker"], t["text"], when) for t in talk[f"session_{n}"]])
        n += 1
    return found


def _turns(sample: dict[str, Any]) -> list[tuple[str, str, datetime]]:
    """(dia_id, "{speaker}: {text}", when) of every turn of a conversation."""
    return [(d, f"{s}: {t}", w) for turns in _sessions(sample) for d, s, t, w in turns]


def _questions(samples: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (s["sample_id"], q)
        for s in samples
        for q in s["qa"]
        if q.get("evidence") and str(q["category"]) in CATEGORIES
    ]


async def quality(urls: DatabaseUrls, samples: list[dict[str, Any]]) -> dict[str, Any]:
    tenant = await _tenant(urls)
    settings = Settings(pool_size=4, embedder="minilm")
    embedders = Embedders(settings)
    engine = create_engine(urls.app, settings)
    sessions = sessionmaker(engine)
    principal = Principal.system(tenant)

    scope: dict[str, uuid.UUID] = {}
    started = time.perf_counter()
    stored = 0
    for sample in samples:
        async with tenant_session(sessions, tenant) as session:
            talk = Session(tenant_id=tenant, title=sample["sample_id"])
            session.add(talk)
            await session.flush()
            scope[sample["sample_id"]] = talk.id
            for dia_id, content, when in _turns(sample):
                await EPISODES.create(
                    session,
                    principal,
                    {
                        "episode_type": "TURN",
                        "content": content,
                        "occurred_at": when,
                        "session_id": talk.id,
                        "metadata": {"dia_id": dia_id},
                    },
                )
                stored += 1
    await embed_pending(sessions, embedders, tenant, batch_size=64)
    write_s = time.perf_counter() - started
    async with tenant_session(sessions, tenant) as session:
        rows = (await session.execute(select(Episode.id, Episode.metadata_))).all()
    dia_of = {row[0]: row[1]["dia_id"] for row in rows}

    questions = _questions(samples)
    found: dict[str, dict[str, list[float]]] = {m: defaultdict(list) for m in ("memory", "vector")}
    timings: list[float] = []
    first_top: list[list[uuid.UUID]] = []
    for sample_id, q in questions:
        evidence = set(q["evidence"])
        for name, query in (
            ("memory", MemoryQuery(q["question"], k=10, session_id=scope[sample_id], facts=0)),
            (
                "vector",
                MemoryQuery(
                    q["question"],
                    mode="vector",
                    k=10,
                    session_id=scope[sample_id],
                    facts=0,
                    weights=PLAIN_VECTOR,
                ),
            ),
        ):
            async with tenant_session(sessions, tenant) as session:
                t = time.perf_counter()
                recalled = await search(session, principal, embedders, query)
                if name == "memory":
                    timings.append((time.perf_counter() - t) * 1000)
            ranked = {dia_of[e.id] for e in recalled.episodes}
            share = len(evidence & ranked) / len(evidence)
            found[name]["all"].append(share)
            found[name][str(q["category"])].append(share)
            if name == "memory":
                first_top.append([e.id for e in recalled.episodes])
    await engine.dispose()
    await embedders.close()
    # a restart: new connections, a new embedder; the same questions again
    embedders = Embedders(settings)
    engine = create_engine(urls.app, settings)
    sessions = sessionmaker(engine)
    same = 0
    for (sample_id, q), before in zip(questions, first_top, strict=True):
        query = MemoryQuery(q["question"], k=10, session_id=scope[sample_id], facts=0)
        async with tenant_session(sessions, tenant) as session:
            recalled = await search(session, principal, embedders, query)
        same += [e.id for e in recalled.episodes] == before
    await engine.dispose()
    await embedders.close()

    figures: dict[str, Any] = {
        "locomo_questions": len(questions),
        "episodes": stored,
        "write_and_embed_episodes_per_s": round(stored / write_s, 1),
        "locomo_search_p50_ms": round(statistics.median(timings), 3),
        "determinism": round(same / len(questions), 4),
    }
    for name, cells in found.items():
        figures[f"{name}_recall_at_10"] = round(statistics.mean(cells["all"]), 4)
        for category in CATEGORIES:
            figures[f"{name}_recall_at_10_cat{category}"] = round(
                statistics.mean(cells[category]), 4
            )
    figures["memory_beats_vector_in_every_category"] = all(
        figures[f"memory_recall_at_10_cat{c}"] > figures[f"vector_recall_at_10_cat{c}"]
        for c in CATEGORIES
    )
    return figures


async def latency(urls: DatabaseUrls, args: argparse.Namespace) -> dict[str, Any]:
    tenant = await _tenant(urls, "Memory latency")
    rng = np.random.default_rng(7)
    n = args.episodes
    centres = rng.normal(size=(CLUSTERS, DIMS)).astype(np.float32)
    cluster = rng.integers(0, CLUSTERS, size=n)
    vectors = centres[cluster] + rng.normal(scale=NOISE, size=(n, DIMS)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    vocabulary = [[f"w{c}x{i}" for i in range(40)] for c in range(CLUSTERS)]
    words = rng.integers(0, 40, size=(n, 12))
    model = label(HashingEmbedder(DIMS))
    start = datetime(2025, 1, 1).astimezone()
    records = [
        (
            uuid.uuid4(),
            tenant,
            " ".join(vocabulary[cluster[i]][w] for w in words[i]),
            "[" + ",".join(f"{x:.6f}" for x in vectors[i]) + "]",
            model,
            start + (datetime(2026, 1, 1).astimezone() - start) * (i / n),
        )
        for i in range(n)
    ]
    owner = await asyncpg.connect(_driver_url(urls.owner))
    started = time.perf_counter()
    await owner.execute("DROP INDEX ix_episodes_embedding_hnsw")
    await owner.execute(f"CREATE TEMP TABLE incoming ({INCOMING})")
    await owner.copy_records_to_table("incoming", records=records)
    await owner.execute(LOAD)
    await owner.execute("SET maintenance_work_mem = '1GB'")
    await owner.execute(
        "CREATE INDEX ix_episodes_embedding_hnsw ON episodes "
        "USING hnsw (embedding vector_cosine_ops)"
    )
    await owner.execute("ANALYZE episodes")
    load_s = time.perf_counter() - started
    del records  # the rows are in the database now; the heap is settled without them
    settle_heap()

    settings = Settings(pool_size=2, embedder="hashing")
    embedders = Embedders(settings)
    engine = create_engine(urls.app, settings)
    sessions = sessionmaker(engine)
    principal = Principal.system(tenant)
    queries = []
    for i in rng.integers(0, n, size=args.queries):
        q = vectors[i] + rng.normal(scale=0.5 / DIMS**0.5, size=DIMS).astype(np.float32)
        q /= np.linalg.norm(q)
        queries.append(([float(x) for x in q], " ".join(rng.choice(vocabulary[cluster[i]], 3))))
    raw_sql = (
        "SELECT id FROM episodes WHERE tenant_id = $2 ORDER BY embedding <=> $1::vector LIMIT 10"
    )
    raw = await asyncpg.connect(
        _driver_url(urls.owner),
        server_settings={
            "hnsw.iterative_scan": "relaxed_order",
            "hnsw.ef_search": str(settings.search_ef),
        },
    )

    async def ours(q: list[float], words_: str, timings: list[float] | None) -> None:
        async with tenant_session(sessions, tenant) as session:
            await session.execute(sql_text("SELECT 1"))  # begun and bound, as in a request
            t = time.perf_counter()
            await search(session, principal, embedders, MemoryQuery(words_, k=10), vector=q)
            if timings is not None:
                timings.append((time.perf_counter() - t) * 1000)

    for q, words_ in queries[:20]:  # warm both paths
        await ours(q, words_, None)
        await raw.fetch(raw_sql, "[" + ",".join(map(str, q)) + "]", tenant)
    ours_ms: list[float] = []
    raw_ms: list[float] = []
    for q, words_ in queries:
        await ours(q, words_, ours_ms)
        t = time.perf_counter()
        await raw.fetch(raw_sql, "[" + ",".join(map(str, q)) + "]", tenant)
        raw_ms.append((time.perf_counter() - t) * 1000)
    await raw.close()
    await owner.close()
    await engine.dispose()
    p50, p95 = _quantiles(ours_ms)
    raw_p50, raw_p95 = _quantiles(raw_ms)
    return {
        "latency_episodes": n,
        "load_and_index_s": round(load_s, 1),
        "memory_search_p50_ms": p50,
        "memory_search_p95_ms": p95,
        "raw_p50_ms": raw_p50,
        "raw_p95_ms": raw_p95,
        "latency_ratio": round(p95 / raw_p95, 2),
    }


async def facts(urls: DatabaseUrls, args: argparse.Namespace, per_request: int) -> dict[str, Any]:
    """Facts `per_request` a transaction, on tables without facts, left so (a vector HNSW
    holds already is cheap to add again: see the twin below)."""
    tenant = await _tenant(urls, "Memory facts")
    settings = Settings(pool_size=2, embedder="hashing")
    embedders = Embedders(settings)
    engine = create_engine(urls.app, settings)
    sessions = sessionmaker(engine)
    principal = Principal.system(tenant)
    rng = random.Random(3)
    people = [f"Person {i}" for i in range(args.facts // 4)]
    places = [f"Town {i}" for i in range(50)]
    inputs = [
        FactInput(
            EntityRef(rng.choice(people), "person"),
            rng.choice(["lives_in", "works_in", "visited"]),
            EntityRef(rng.choice(places), "place"),
            valid_from=datetime(2020, 1, 1).astimezone()
            + (i * (datetime(2025, 1, 1) - datetime(2020, 1, 1))) / args.facts,
            exclusive=True,
        )
        for i in range(args.facts)
    ]
    started = time.perf_counter()
    for i in range(0, len(inputs), per_request):
        async with tenant_session(sessions, tenant) as session:
            await record(session, principal, embedders, inputs[i : i + per_request])
    ours_s = time.perf_counter() - started
    await engine.dispose()
    # the rows it stored, again, bare: one INSERT per row, every column as stored, in one
    # transaction, into an empty twin of the table (in the table itself, pgvector's HNSW
    # would find each vector there already and add the row to it, skipping the graph work
    # ours did)
    owner = await asyncpg.connect(_driver_url(urls.owner))
    columns = [
        name
        for (name,) in await owner.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_name = "
            "'relationships' AND is_generated = 'NEVER' ORDER BY ordinal_position"
        )
    ]
    rows = await owner.fetch(
        f"SELECT {', '.join(_floats(c) for c in columns)} FROM relationships "
        "WHERE tenant_id = $1 ORDER BY recorded_at, id",
        tenant,
    )
    twin = await _twin(owner, "relationships")
    values = ", ".join(
        f"${n}::real[]::vector" if c == "fact_embedding" else f"${n}"
        for n, c in enumerate(columns, start=1)
    )
    started = time.perf_counter()
    async with owner.transaction():
        await owner.executemany(
            f"INSERT INTO {twin} ({', '.join(columns)}) VALUES ({values})",
            [tuple(row) for row in rows],
        )
    raw_s = time.perf_counter() - started
    await owner.execute(f"DROP TABLE {twin}")
    for table in ("relationships", "entities"):  # the tables as they were, indexes too
        await owner.execute(f"DELETE FROM {table} WHERE tenant_id = $1", tenant)
        await owner.execute(f"VACUUM {table}")
    await owner.close()
    return {
        "facts": len(inputs),
        "facts_stored_rows": len(rows),
        "facts_per_s": round(len(inputs) / ours_s, 1),
        "raw_facts_per_s": round(len(inputs) / raw_s, 1),  # the same rows, bare
        "raw_rows_per_s": round(len(rows) / raw_s, 1),
        "facts_ratio": round(raw_s / ours_s, 3),
    }


def _floats(column: str) -> str:
    return f"{column}::real[]" if column == "fact_embedding" else column


async def _twin(owner: asyncpg.Connection, table: str) -> str:
    """An empty table like `table`: its columns, checks, indexes, foreign keys and storage
    parameters (its fillfactor)."""
    twin = f"twin_{table}"
    await owner.execute(f"CREATE TABLE {twin} (LIKE {table} INCLUDING ALL)")
    options = await owner.fetchval(
        "SELECT reloptions FROM pg_class WHERE oid = $1::regclass", table
    )
    if options:
        await owner.execute(f"ALTER TABLE {twin} SET ({', '.join(options)})")
    for (constraint,) in await owner.fetch(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = $1::regclass AND contype = 'f'",
        table,
    ):
        await owner.execute(f"ALTER TABLE {twin} ADD {constraint}")
    return twin


async def run(urls: DatabaseUrls, args: argparse.Namespace) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    samples = json.loads(args.locomo.read_text()) if {"quality", "session"} & args.parts else []
    if "quality" in args.parts:
        figures |= await quality(urls, samples)
    if "session" in args.parts:
        tenant = await _tenant(urls, "Memory session path")
        settle_heap()
        figures |= await session_path(
            urls, tenant, samples, _sessions, _questions(samples), CATEGORIES
        )
    if "batch" in args.parts:
        settle_heap()
        figures |= await batch_write(urls, await _tenant(urls, "Memory batch"), args.batch)
    if "facts" in args.parts:
        settle_heap()
        figures |= await facts(urls, args, PER_REQUEST)
        more = await facts(urls, args, LARGE_REQUEST)
        figures |= {f"{key}_{LARGE_REQUEST}": more[key] for key in FACT_FIGURES}
    if "latency" in args.parts:
        figures |= await latency(urls, args)  # settles once its rows are loaded
    figures["targets"] = {
        "memory_recall_at_10": 0.70,
        "session_path_recall_at_10": 0.68,
        "determinism": 1.0,
        "facts_ratio": 0.5,
        "memory_search_p95_ms": 25,
    }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--locomo", type=Path, default=LOCOMO)
    parser.add_argument(
        "--parts",
        default="quality,session,batch,facts,latency",
        type=lambda given: set(given.split(",")),
        help="which parts to run",
    )
    parser.add_argument("--batch", type=int, default=10_000, help="episodes in the batch part")
    parser.add_argument("--episodes", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--facts", type=int, default=1000)
    args = parser.parse_args()
    measure_and_report(lambda urls: run(urls, args))


if __name__ == "__main__":
    main()
