"""Phrasings follow the tenant to another embedding model.

Rules' conditions and examples (`rule_phrasings`) and scenarios' entry and transition
conditions (`scenario_phrasings`) are matched only against phrasings of the tenant's
model. As the tenant moves to another (`knowledge.migration.switch`), every phrasing gets
a twin embedded by the new model (`twin_all`: committed batches while the switch runs,
then the rest under its lock), and once the model is switched only its phrasings are kept,
and the rules' and scenarios' own condition vectors are the new model's (`keep_only`)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement, and_, delete, exists, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from personae.behavior.models import Rule, RulePhrasing, Scenario, ScenarioPhrasing
from personae.db.tenancy import tenant_session
from personae.providers.embeddings import Embedder, Embedders, label
from personae.retrieval.embedding_models import tenant_embedder

BATCH = 256
ANALYZE_AFTER = 500
"""Phrasings written at once past which the tables' statistics are refreshed (the
planner would otherwise take them for as small as they were, and scan them all)."""
ANALYZE = text("SELECT personae_analyze_phrasings()")


@dataclass(frozen=True)
class Table:
    """A table of phrasings: the columns that say which phrasing a row is (its twin has
    the same), copied to the twin with its text; the kind that is also its owner's own
    vector, and that vector's attribute."""

    model: Any
    same: tuple[str, ...]
    main: str
    vector: str


RULES = Table(RulePhrasing, ("rule_id", "agent_id", "kind"), "CONDITION", "condition_embedding")
SCENARIOS = Table(
    ScenarioPhrasing,
    ("scenario_id", "agent_id", "version", "kind", "step", "transition"),
    "ENTRY",
    "entry_embedding",
)
TABLES = (RULES, SCENARIOS)
Said = tuple[Any, dict[str, Any], str]
"""A phrasing to write: its owner (a rule, a scenario), its columns, its text."""


async def write(
    session: AsyncSession,
    embedders: Embedders,
    table: Table,
    owners: Sequence[Any],
    said: Sequence[Said],
) -> None:
    """Embed what the owners say (one call, the tenant's model) as rows of `table`, the
    `main` kind also as each owner's own vector (the caller removed what they said
    before); the owners refreshed after the flush."""
    for owner in owners:
        setattr(owner, table.vector, None)
        owner.embedding_model = None
    if said:
        tenant = owners[0].tenant_id
        embedder = await tenant_embedder(session, embedders, tenant, hold=True)
        vectors = await embedder.embed([words for *_, words in said])
        model = label(embedder)
        for (owner, columns, words), vector in zip(said, vectors, strict=True):
            session.add(
                table.model(
                    tenant_id=owner.tenant_id,
                    agent_id=owner.agent_id,
                    text=words,
                    embedding=vector,
                    embedding_model=model,
                    **columns,
                )
            )
            if columns["kind"] == table.main:
                setattr(owner, table.vector, vector)
                owner.embedding_model = model
    await session.flush()
    if len(said) >= ANALYZE_AFTER:
        await session.execute(ANALYZE)
    for owner in owners:
        await session.refresh(owner)  # what the flush made the database compute


def _untwinned(table: Table, model: str) -> ColumnElement[bool]:
    """The phrasing has no twin embedded by `model`."""
    row, twin = table.model, aliased(table.model)
    return and_(
        row.embedding_model.is_distinct_from(model),
        ~exists().where(
            *(getattr(twin, c).is_not_distinct_from(getattr(row, c)) for c in table.same),
            twin.text == row.text,
            twin.embedding_model == model,
        ),
    )


async def twin_all(
    sessions: async_sessionmaker[AsyncSession],
    tenant_id: uuid.UUID,
    target: Embedder,
    session: AsyncSession | None = None,
) -> int:
    """Give every phrasing of the tenant a twin embedded by `target`, a committed batch at
    a time with no transaction open while embedding; or all in `session` (the switch's
    own, under the model lock). How many twins were written."""
    written = 0
    for table in TABLES:
        written += await _twin(sessions, tenant_id, target, table, session)
    return written


async def _twin(
    sessions: async_sessionmaker[AsyncSession],
    tenant_id: uuid.UUID,
    target: Embedder,
    table: Table,
    session: AsyncSession | None,
) -> int:
    model, written, row = label(target), 0, table.model
    while True:
        async with _within(sessions, tenant_id, session) as reading:
            found = await reading.execute(
                select(row).where(_untwinned(table, model)).order_by(row.id).limit(BATCH)
            )
            batch = list(found.scalars())
        if not batch:
            return written
        vectors = await target.embed([p.text for p in batch])
        async with _within(sessions, tenant_id, session) as writing:
            still = await writing.execute(
                select(row.id).where(row.id.in_([p.id for p in batch]), _untwinned(table, model))
            )
            kept = set(still.scalars())
            writing.add_all(
                row(
                    tenant_id=p.tenant_id,
                    text=p.text,
                    embedding=vector,
                    embedding_model=model,
                    **{c: getattr(p, c) for c in table.same},
                )
                for p, vector in zip(batch, vectors, strict=True)
                if p.id in kept
            )
            await writing.flush()
            written += len(kept)


async def keep_only(session: AsyncSession, model: str) -> None:
    """The tenant's model is now `model`: its phrasings are the only ones kept, and each
    rule's condition vector and each scenario's entry vector are its (in the switch's
    transaction)."""
    for table in TABLES:
        await session.execute(delete(table.model).where(table.model.embedding_model != model))
    condition = (
        select(RulePhrasing.embedding)
        .where(
            RulePhrasing.rule_id == Rule.id,
            RulePhrasing.kind == "CONDITION",
            RulePhrasing.embedding_model == model,
        )
        .limit(1)
        .scalar_subquery()
    )
    await session.execute(
        sa.update(Rule)
        .where(Rule.embedding_model.is_distinct_from(model))
        .values(condition_embedding=condition, embedding_model=model)
    )
    entry = (
        select(ScenarioPhrasing.embedding)
        .where(
            ScenarioPhrasing.scenario_id == Scenario.id,
            ScenarioPhrasing.version == Scenario.version,
            ScenarioPhrasing.kind == "ENTRY",
            ScenarioPhrasing.embedding_model == model,
        )
        .limit(1)
        .scalar_subquery()
    )
    await session.execute(
        sa.update(Scenario)
        .where(Scenario.entry_condition.is_not(None), Scenario.embedding_model != model)
        .values(entry_embedding=entry, embedding_model=model)
    )


@asynccontextmanager
async def _within(
    sessions: async_sessionmaker[AsyncSession],
    tenant_id: uuid.UUID,
    session: AsyncSession | None,
) -> AsyncIterator[AsyncSession]:
    if session is not None:
        yield session
        return
    async with tenant_session(sessions, tenant_id) as own:  # committed as it closes
        yield own
