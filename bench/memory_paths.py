"""The parts of `memory.py` beyond searching episodes written directly: the real path (a
conversation appended to sessions, remembered and summarised as a server does, searched as
a persona's turn searches) and the batch write of episodes against a bare COPY."""

from __future__ import annotations

import statistics
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy import select

from personae.db.engine import DatabaseUrls, create_engine, sessionmaker
from personae.db.tenancy import tenant_session
from personae.kernel.principal import Principal
from personae.memory.episodes import write_many
from personae.memory.models import Episode
from personae.memory.search import MemoryQuery, search
from personae.memory.summaries import summarize_session
from personae.memory.writing import remember
from personae.personas.models import Persona
from personae.providers.embeddings import Embedders
from personae.sessions import log
from personae.sessions.models import Session
from personae.settings import Settings

Turns = Callable[[dict[str, Any]], list[list[tuple[str, str, str, datetime]]]]
"""A conversation's sessions, each a list of (dia_id, speaker, text, when)."""


async def session_path(
    urls: DatabaseUrls,
    tenant: uuid.UUID,
    samples: list[dict[str, Any]],
    sessions_of: Turns,
    questions: list[tuple[str, dict[str, Any]]],
    categories: tuple[str, ...],
) -> dict[str, Any]:
    """Each conversation a persona; each of its sessions a session, its turns appended as
    messages (the first speaker's as the user's, with `speaker` and the session's date),
    remembered and summarised (extractive: no utility model) as the worker does; each
    question searched as the persona's turn searches, its top 10 turns scored."""
    settings = Settings(pool_size=4, embedder="minilm")
    embedders = Embedders(settings)
    engine = create_engine(urls.app, settings)
    sessions = sessionmaker(engine)
    principal = Principal.system(tenant)
    persona_of: dict[str, uuid.UUID] = {}
    dia_of: dict[int, str] = {}
    talks: list[uuid.UUID] = []
    for sample in samples:
        async with tenant_session(sessions, tenant) as session:
            persona = Persona(tenant_id=tenant, name=f"{sample['sample_id']} listener")
            session.add(persona)
            await session.flush()
            persona_of[sample["sample_id"]] = persona.id
        first_speaker = None
        for turns in sessions_of(sample):
            async with tenant_session(sessions, tenant) as session:
                talk = Session(tenant_id=tenant, persona_id=persona_of[sample["sample_id"]])
                session.add(talk)
                await session.flush()
                first_speaker = first_speaker or turns[0][1]
                events = [
                    log.NewEvent(
                        "message.user" if speaker == first_speaker else "message.assistant",
                        {
                            "content": text,
                            "occurred_at": when.isoformat(),
                            "metadata": {"speaker": speaker},
                        },
                    )
                    for _dia, speaker, text, when in turns
                ]
                appended = await log.append(session, principal, talk.id, events)
                for (dia_id, *_), stored in zip(turns, appended.events, strict=True):
                    dia_of[int(stored["id"])] = dia_id
                talks.append(talk.id)
    started = time.perf_counter()
    for talk_id in talks:
        await remember(
            sessions,
            embedders,
            tenant,
            talk_id,
            batch_size=settings.memory_batch_size,
            retry_s=settings.memory_retry_s,
            summary_window=settings.memory_summary_window,
        )
        await summarize_session(
            sessions,
            embedders,
            tenant,
            talk_id,
            window=settings.memory_summary_window,
            meta=settings.memory_meta_window,
        )
    remember_s = time.perf_counter() - started
    async with tenant_session(sessions, tenant) as session:
        kinds: dict[str, int] = defaultdict(int)
        for (kind,) in (await session.execute(select(Episode.episode_type))).all():
            kinds[kind] += 1
    found: dict[str, list[float]] = defaultdict(list)
    summaries_in_top: list[int] = []
    for sample_id, q in questions:
        query = MemoryQuery(q["question"], k=10, persona_id=persona_of[sample_id], facts=0)
        async with tenant_session(sessions, tenant) as session:
            recalled = await search(session, principal, embedders, query)
        top = recalled.episodes
        said = {dia_of[e.source_event_ids[0]] for e in top if e.episode_type == "TURN"}
        summaries_in_top.append(sum(e.episode_type == "SUMMARY" for e in top))
        share = len(set(q["evidence"]) & said) / len(q["evidence"])
        found["all"].append(share)
        found[str(q["category"])].append(share)
    await engine.dispose()
    await embedders.close()
    figures: dict[str, Any] = {
        "session_path_episodes": dict(sorted(kinds.items())),
        "session_path_remember_s": round(remember_s, 1),
        "session_path_recall_at_10": round(statistics.mean(found["all"]), 4),
        "session_path_summaries_in_top_10": round(statistics.mean(summaries_in_top), 2),
    }
    for category in categories:
        figures[f"session_path_recall_at_10_cat{category}"] = round(
            statistics.mean(found[category]), 4
        )
    return figures


def _driver_url(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def batch_write(urls: DatabaseUrls, tenant: uuid.UUID, n: int) -> dict[str, Any]:
    """`n` episodes through `write_many` (one statement, the API's batch), then the same
    rows by a bare COPY into the table, as the owner."""
    settings = Settings(pool_size=2, embedder="hashing")
    engine = create_engine(urls.app, settings)
    sessions = sessionmaker(engine)
    principal = Principal.system(tenant)
    start = datetime(2023, 1, 1, tzinfo=UTC)
    items = [
        {
            "episode_type": "TURN",
            "content": f"Speaker {i % 2}: line {i} of an imported conversation about the sea",
            "occurred_at": start + timedelta(minutes=i),
            "metadata": {"line": i},
        }
        for i in range(n)
    ]
    started = time.perf_counter()
    async with tenant_session(sessions, tenant) as session:
        await write_many(session, principal, items)
    ours_s = time.perf_counter() - started
    await engine.dispose()
    owner = await asyncpg.connect(_driver_url(urls.owner))
    records = [
        (uuid.uuid4(), tenant, "TURN", item["content"], item["occurred_at"], item["occurred_at"])
        for item in items
    ]
    started = time.perf_counter()
    await owner.copy_records_to_table(
        "episodes",
        records=records,
        columns=["id", "tenant_id", "episode_type", "content", "occurred_at", "valid_from"],
    )
    raw_s = time.perf_counter() - started
    await owner.close()
    return {
        "episodes_batch": n,
        "episodes_batch_per_s": round(n / ours_s, 1),
        "raw_copy_per_s": round(n / raw_s, 1),
        "episodes_batch_ratio": round(raw_s / ours_s, 3),
    }
