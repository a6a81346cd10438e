"""Summaries of long sessions: a window summary of every `window` turns, and a meta-summary
of every `meta` window summaries, so a long conversation is remembered at three scales.

Each is a SUMMARY episode in the session's scope: `source_event_ids` are the session
events of the turns it covers, its metadata names the episodes it summarises (`sources`),
its `level` (1: window, 2: meta) and `index`, and how it was written (the tenant's utility
model, with its tokens and cost, or extractively). Windows are fixed (turns 1 to 20, 21 to
40, and so on) and each is written once, so a job run twice writes nothing twice."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from personae.db import locks
from personae.db.tenancy import tenant_session
from personae.memory.models import Episode
from personae.memory.writing import embed_later, try_embed, vector_columns
from personae.providers.embeddings import Embedders, label
from personae.retrieval.embedding_models import tenant_embedder
from personae.retrieval.summaries import Summary, summarize
from personae.settings_store.model_configs import background_model
from personae.vault.service import Vault

WINDOW, META = 1, 2
SUMMARY_TOKENS = {WINDOW: 256, META: 384}
IMPORTANCE = {WINDOW: 0.6, META: 0.7}
EMPTY_FALLBACK = 1000
"""Characters of the sources kept when no sentence of them could be picked (no words)."""
SCOPE = ("session_id", "persona_id", "agent_id", "customer_profile_id", "group_id")


@dataclass(frozen=True)
class Due:
    """The next summary to write: its level, its index, and the episodes it covers."""

    level: int
    index: int
    sources: list[Episode]


async def summarize_session(
    sessions: async_sessionmaker[AsyncSession],
    embedders: Embedders,
    tenant_id: uuid.UUID,
    session_id: uuid.UUID,
    *,
    window: int,
    meta: int,
    vault: Vault | None = None,
    endpoint_hosts: Sequence[str] = (),
    final_attempt: bool = True,
) -> int:
    """Write every summary the session is due; returns how many were written."""
    written = 0
    while True:
        async with tenant_session(sessions, tenant_id) as session:
            due = await _due(session, session_id, window, meta)
            if due is None:
                return written
            embedder = await tenant_embedder(session, embedders, tenant_id)
            model = (
                None if vault is None else await background_model(session, vault, endpoint_hosts)
            )
        try:
            texts = [source.content for source in due.sources]
            summary = await summarize(
                model, texts, SUMMARY_TOKENS[due.level], final_attempt=final_attempt
            )
        finally:
            if model is not None:
                await model.close()
        vectors = await try_embed(embedder, [summary.text])
        async with tenant_session(sessions, tenant_id) as session:
            await locks.hold(session, f"summaries:{session_id}")
            again = await _due(session, session_id, window, meta)
            held = await tenant_embedder(session, embedders, tenant_id, hold=True)
            if again is None or (again.level, again.index) != (due.level, due.index):
                continue  # written meanwhile, or the session erased
            if label(held) != label(embedder):
                continue
            vector = None if vectors is None else vectors[0]
            row = _row(tenant_id, due, summary)
            await session.execute(
                insert(Episode).values({**row, **vector_columns(embedder, vector)})
            )
            if vector is None:
                await embed_later(session, tenant_id)
        written += 1


def _row(tenant_id: uuid.UUID, due: Due, summary: Summary) -> dict[str, Any]:
    first, last = due.sources[0], due.sources[-1]
    return {
        **{name: getattr(first, name) for name in SCOPE},
        "tenant_id": tenant_id,
        "episode_type": "SUMMARY",
        "content": summary.text or " ".join(s.content for s in due.sources)[:EMPTY_FALLBACK],
        "importance": IMPORTANCE[due.level],
        "occurred_at": last.occurred_at,
        "valid_from": first.valid_from,
        "source_event_ids": [e for source in due.sources for e in source.source_event_ids],
        "metadata_": {
            "level": due.level,
            "index": due.index,
            "sources": [str(source.id) for source in due.sources],
            **summary.usage,
        },
    }


async def _due(session: AsyncSession, session_id: uuid.UUID, window: int, meta: int) -> Due | None:
    """The session's next summary: a window of turns, else a window of summaries."""
    of_session = Episode.session_id == session_id
    level = Episode.metadata_["level"].as_integer()
    counts = (
        await session.execute(
            select(
                func.count().filter(Episode.episode_type == "TURN"),
                func.count().filter(Episode.episode_type == "SUMMARY", level == WINDOW),
                func.count().filter(Episode.episode_type == "SUMMARY", level == META),
            ).where(of_session)
        )
    ).one()
    turns, windows, metas = counts
    if turns >= (windows + 1) * window:
        sources = (
            select(Episode)
            .where(of_session, Episode.episode_type == "TURN")
            .order_by(Episode.source_event_ids[1])
            .offset(windows * window)
            .limit(window)
        )
        return Due(WINDOW, windows, list((await session.execute(sources)).scalars()))
    if windows >= (metas + 1) * meta:
        sources = (
            select(Episode)
            .where(of_session, Episode.episode_type == "SUMMARY", level == WINDOW)
            .order_by(Episode.metadata_["index"].as_integer())
            .offset(metas * meta)
            .limit(meta)
        )
        return Due(META, metas, list((await session.execute(sources)).scalars()))
    return None
