"""The memory write path: a turn never waits for it, and nothing is lost on the way.

Appending a user or assistant message queues `remember_session` in the same transaction
(`db/sql/memory_outbox.sql`: the job row is the outbox). The job turns the session's new
messages into TURN episodes, a batch per transaction, each unique per source event, so a
job that runs again after a crash writes nothing twice. A batch whose embedding fails is
stored without vectors (`embedding_status` failed) and `embed_episodes` fills them in later."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from personae.db.tenancy import every_tenant, tenant_session
from personae.errors import ProviderError, ProviderUnavailable
from personae.jobs import Job, defer_in
from personae.memory.models import Episode
from personae.personas.models import Persona
from personae.providers.embeddings import Embedder, Embedders, label
from personae.retrieval.embedding_models import tenant_embedder
from personae.sessions.models import Message, Session
from personae.settings_store.flags import enabled

REMEMBER = Job("remember_session", queue="memory")
"""Queued by the messages trigger (`db/sql/memory_outbox.sql`), which names it."""
EMBED = Job("embed_episodes", queue="memory")
SUMMARIZE = Job("summarize_session", queue="memory")
EXTRACT = Job("extract_session", queue="memory")
REMEMBERED_ROLES = ("user", "assistant")
EPISODE_TEXT = 100_000
"""Characters an episode holds (as the API accepts)."""


def embed_lock(tenant_id: uuid.UUID) -> str:
    return f"episodes:{tenant_id}"


async def remember(
    sessions: async_sessionmaker[AsyncSession],
    embedders: Embedders,
    tenant_id: uuid.UUID,
    session_id: uuid.UUID,
    *,
    batch_size: int,
    retry_s: float,
    summary_window: int,
) -> int:
    """Write a TURN episode for each of the session's messages that has none yet, and queue
    what follows from them (summaries, extraction); returns how many were written."""
    written = 0
    while True:
        async with tenant_session(sessions, tenant_id) as session:
            scope = await _scope(session, session_id)
            if scope is None:
                return written  # erased meanwhile
            messages = await _unremembered(session, session_id, batch_size)
            embedder = await tenant_embedder(session, embedders, tenant_id)
        if not messages:
            return written
        texts = [_content(m) for m in messages]
        vectors = await try_embed(embedder, texts)
        async with tenant_session(sessions, tenant_id) as session:
            held = await tenant_embedder(session, embedders, tenant_id, hold=True)
            if label(held) != label(embedder):
                continue  # the tenant moved to another model meanwhile: embed again
            rows = [
                {
                    **scope,
                    "tenant_id": tenant_id,
                    "episode_type": "TURN",
                    "content": content,
                    "occurred_at": message.created_at,
                    "valid_from": message.created_at,
                    "source_event_ids": [message.event_id],
                    "metadata_": {"role": message.role, "seq": message.seq},
                    **vector_columns(embedder, None if vectors is None else vectors[index]),
                }
                for index, (message, content) in enumerate(zip(messages, texts, strict=True))
            ]
            await session.execute(insert(Episode).values(rows).on_conflict_do_nothing())
            if vectors is None:
                await embed_later(session, tenant_id, retry_s)
            await _follow_up(session, tenant_id, session_id, len(rows), summary_window)
        written += len(messages)


async def embed_pending(
    sessions: async_sessionmaker[AsyncSession],
    embedders: Embedders,
    tenant_id: uuid.UUID,
    *,
    batch_size: int,
) -> int:
    """Give every episode of the tenant without a vector of its model one; returns how many
    were embedded. A batch the provider fails is marked failed and the error raised (the
    job retries `ProviderUnavailable`; the periodic sweep comes back for the rest)."""
    embedded = 0
    after = uuid.UUID(int=0)
    while True:
        async with tenant_session(sessions, tenant_id) as session:
            embedder = await tenant_embedder(session, embedders, tenant_id)
            found = await session.execute(
                select(Episode.id, Episode.content)
                .where(Episode.embedding_status != "embedded", Episode.id > after)
                .order_by(Episode.id)
                .limit(batch_size)
            )
            batch = found.all()
        if not batch:
            return embedded
        try:
            vectors = await embedder.embed([content for _, content in batch])
        except (ProviderError, ProviderUnavailable):
            async with tenant_session(sessions, tenant_id) as session:
                await session.execute(
                    update(Episode)
                    .where(Episode.id.in_([episode_id for episode_id, _ in batch]))
                    .values(embedding_status="failed")
                )
            raise
        async with tenant_session(sessions, tenant_id) as session:
            held = await tenant_embedder(session, embedders, tenant_id, hold=True)
            if label(held) != label(embedder):
                continue
            await session.execute(  # one executemany, by primary key
                update(Episode),
                [
                    {"tenant_id": tenant_id, "id": episode_id, **vector_columns(embedder, vector)}
                    for (episode_id, _), vector in zip(batch, vectors, strict=True)
                ],
            )
        embedded += len(batch)
        after = batch[-1][0]


async def embed_everywhere(sessions: async_sessionmaker[AsyncSession]) -> int:
    """Queue `embed_episodes` for every tenant with episodes still waiting for a vector;
    returns how many were queued."""
    queued = 0
    for tenant_id in await every_tenant(sessions):
        async with tenant_session(sessions, tenant_id) as session:
            waiting = await session.execute(
                select(Episode.id).where(Episode.embedding_status != "embedded").limit(1)
            )
            if waiting.first() is not None:
                await embed_later(session, tenant_id)
                queued += 1
    return queued


async def _follow_up(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    session_id: uuid.UUID,
    added: int,
    window: int,
) -> None:
    """Queue a summary when these turns complete a window, and the extraction of facts
    from them when the tenant has it on."""
    ids: dict[str, Any] = {"tenant_id": tenant_id, "session_id": session_id}
    turns = (
        await session.execute(
            select(func.count()).where(
                Episode.session_id == session_id, Episode.episode_type == "TURN"
            )
        )
    ).scalar_one()
    if turns // window > (turns - added) // window:
        await defer_in(session, SUMMARIZE, lock=f"summaries:{session_id}", once=True, **ids)
    if await enabled(session, tenant_id, "memory_extraction"):
        await defer_in(session, EXTRACT, lock=f"extraction:{session_id}", once=True, **ids)


async def _scope(session: AsyncSession, session_id: uuid.UUID) -> dict[str, Any] | None:
    """Where the session's memories belong; None once it or its persona is deleted."""
    found = await session.execute(
        select(Session.persona_id, Session.agent_id, Session.customer_profile_id)
        .outerjoin(Persona, Persona.id == Session.persona_id)
        .where(Session.id == session_id, Session.deleted_at.is_(None), Persona.deleted_at.is_(None))
    )
    row = found.first()
    if row is None:
        return None
    return {
        "session_id": session_id,
        "persona_id": row.persona_id,
        "agent_id": row.agent_id,
        "customer_profile_id": row.customer_profile_id,
    }


async def _unremembered(session: AsyncSession, session_id: uuid.UUID, limit: int) -> list[Message]:
    """The session's next messages past the last one remembered, oldest first."""
    last = (
        select(func.max(Episode.source_event_ids[1]))
        .where(Episode.session_id == session_id, Episode.episode_type == "TURN")
        .scalar_subquery()
    )
    found = await session.execute(
        select(Message)
        .where(
            Message.session_id == session_id,
            Message.role.in_(REMEMBERED_ROLES),
            Message.content != "",
            Message.event_id > func.coalesce(last, 0),
        )
        .order_by(Message.seq)
        .limit(limit)
    )
    return list(found.scalars())


def _content(message: Message) -> str:
    """`speaker: text`, the speaker named in the message's metadata or else its role; a
    longer text than an episode holds is cut (the message keeps it whole)."""
    metadata = message.metadata_ or {}
    speaker = metadata.get("speaker") or metadata.get("name") or message.role
    return f"{speaker}: {message.content}"[:EPISODE_TEXT]


async def try_embed(embedder: Embedder, texts: Sequence[str]) -> list[list[float]] | None:
    try:
        return await embedder.embed(list(texts))
    except (ProviderError, ProviderUnavailable):
        return None


def vector_columns(embedder: Embedder, vector: Sequence[float] | None) -> dict[str, Any]:
    """An episode's vector columns: `vector` from `embedder`, or none (it failed)."""
    if vector is None:
        return {"embedding_status": "failed"}
    return {
        "embedding": list(vector),
        "embedding_model": label(embedder),
        "embedding_status": "embedded",
    }


async def embed_later(session: AsyncSession, tenant_id: uuid.UUID, delay_s: float = 0) -> None:
    """Queue the tenant's episode embedding with this transaction, `delay_s` seconds on
    (none if one waits already: it will embed these too)."""
    lock = embed_lock(tenant_id)
    await defer_in(session, EMBED, lock=lock, once=True, delay_s=delay_s, tenant_id=tenant_id)
