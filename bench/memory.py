"""Memory: recall on real conversations, memory search vs plain vector search.

- quality: every turn of `../shared/data/locomo-dev.json` stored as a TURN episode (text
  `"{speaker}: {text}"`, its session's date as the time it happened, one session per
  conversation as the scope, the `minilm` model); for every question of categories 1-4,
  the share of its evidence turns in the top 10 of our memory search and of plain vector
  search (nearest episode vectors, nothing else) over the same episodes, overall and per
  category.

    python bench/memory.py [--locomo PATH]

Still to come (issue 6): search latency at 100,000 episodes and the fact ingestion rate.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from personae.db.engine import DatabaseUrls, create_engine, sessionmaker
from personae.db.tenancy import tenant_session
from personae.identity.principal import Principal
from personae.identity.service import create_tenant, sync_permissions
from personae.memory.episodes import EPISODES
from personae.memory.models import Episode
from personae.memory.search import MemoryQuery, Weights, search
from personae.memory.writing import embed_pending
from personae.providers.embeddings import Embedders
from personae.sessions.models import Session
from personae.settings import Settings
from throwaway import measure_and_report

LOCOMO = Path(__file__).resolve().parents[2] / "shared" / "data" / "locomo-dev.json"
CATEGORIES = ("1", "2", "3", "4")
PLAIN_VECTOR = Weights(importance=0, recency=0)
"""Nearest vectors and nothing else: the baseline."""


async def _tenant(urls: DatabaseUrls) -> uuid.UUID:
    owner = create_async_engine(urls.owner, poolclass=NullPool)
    async with owner.begin() as conn:
        await sync_permissions(conn)
    async with async_sessionmaker(owner, expire_on_commit=False)() as s, s.begin():
        tenant = (await create_tenant(s, "Memory bench", "m@example.com")).tenant.id
    await owner.dispose()
    return tenant


def _when(stamp: str) -> datetime:
    """LoCoMo's `1:56 pm on 8 May, 2023`."""
    return datetime.strptime(stamp, "%I:%M %p on %d %B, %Y").astimezone()


def _turns(sample: dict[str, Any]) -> list[tuple[str, str, datetime]]:
    """(dia_id, text, when) of every turn of a conversation."""
    talk = sample["conversation"]
    turns = []
    n = 1
    while f"session_{n}" in talk:
        when = _when(talk[f"session_{n}_date_time"])
        for turn in talk[f"session_{n}"]:
            said = turn["text"]
            if turn.get("blip_caption"):
                said += f" [shares a photo: {turn['blip_caption']}]"
            turns.append((turn["dia_id"], f"{turn['speaker']}: {said}", when))
        n += 1
    return turns


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

    questions = [
        (s["sample_id"], q)
        for s in samples
        for q in s["qa"]
        if q.get("evidence") and str(q["category"]) in CATEGORIES
    ]
    found: dict[str, dict[str, list[float]]] = {m: defaultdict(list) for m in ("memory", "vector")}
    timings: list[float] = []
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
    await engine.dispose()
    await embedders.close()

    figures: dict[str, Any] = {
        "locomo_questions": len(questions),
        "episodes": stored,
        "write_and_embed_episodes_per_s": round(stored / write_s, 1),
        "locomo_search_p50_ms": round(statistics.median(timings), 3),
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


async def run(urls: DatabaseUrls, args: argparse.Namespace) -> dict[str, Any]:
    figures = await quality(urls, json.loads(args.locomo.read_text()))
    figures["targets"] = {"memory_recall_at_10": 0.65, "memory_search_p95_ms": 25}
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--locomo", type=Path, default=LOCOMO)
    args = parser.parse_args()
    measure_and_report(lambda urls: run(urls, args))


if __name__ == "__main__":
    main()
