"""The registry of embedding models (`embedding_models`: every embedder in use has a
row), and each tenant's choice among them (`tenants.embedding_model`)."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from personae.db import locks
from personae.errors import Unavailable, ValidationFailed
from personae.identity.models import Tenant
from personae.jobs import Job, defer_in
from personae.kernel.audit.service import record
from personae.kernel.principal import Principal
from personae.providers.embeddings import Embedder, Embedders, label
from personae.retrieval.models import EmbeddingModel

VERSION = "1"
SWITCH = Job("switch_embedding_model", queue="ingest")


def lock_key(tenant_id: uuid.UUID) -> str:
    """The tenant's model lock: taken shared to write rows with vectors, alone to switch."""
    return f"embedding-model:{tenant_id}"


async def tenant_model(session: AsyncSession, tenant_id: uuid.UUID) -> str | None:
    """The tenant's model (`provider/model`), or None for the installation's default."""
    found = await session.execute(select(Tenant.embedding_model).where(Tenant.id == tenant_id))
    return found.scalar_one_or_none()


async def tenant_embedder(
    session: AsyncSession, embedders: Embedders, tenant_id: uuid.UUID, *, hold: bool = False
) -> Embedder:
    """The embedder of the tenant's model. `hold`: take the model lock (shared, till the
    transaction ends), as a writer of rows with vectors must, so no switch comes between."""
    if hold:
        await locks.hold(session, lock_key(tenant_id), shared=True)
    return model_embedder(embedders, await tenant_model(session, tenant_id))


def model_embedder(embedders: Embedders, model: str | None) -> Embedder:
    """The embedder of a tenant's model as `tenant_model` gives it."""
    if model is None:
        return embedders.default
    embedder = embedders.named(model)
    if embedder is None:
        raise Unavailable(f"the tenant's embedding model {model} is not configured here")
    return embedder


class QueryVector:
    """A query's embedding by the tenant's model, begun with the installation's default
    before the database has said which the tenant's is (usually the same: then that
    wait costs nothing), made again if it is another."""

    def __init__(self, embedders: Embedders, text: str) -> None:
        self.embedders, self.text = embedders, text
        self._early = asyncio.ensure_future(embedders.default.embed([text]))
        self._early.add_done_callback(_retrieved)

    async def by(self, embedder: Embedder) -> list[float]:
        """The query's vector by `embedder` (the tenant's)."""
        if label(embedder) == label(self.embedders.default):
            return (await self._early)[0]
        self._early.cancel()
        return (await embedder.embed([self.text]))[0]

    def cancel(self) -> None:
        self._early.cancel()


def _retrieved(future: asyncio.Future[list[list[float]]]) -> None:
    """An early embedding nobody awaits fails quietly (the wanted one raises instead)."""
    if not future.cancelled():
        future.exception()


async def register(session: AsyncSession, embedder: Embedder) -> uuid.UUID:
    """The id of `embedder`'s row, made on first use."""
    await session.execute(
        insert(EmbeddingModel)
        .values(
            provider=embedder.provider,
            name=embedder.model,
            version=VERSION,
            dimensions=embedder.dimensions,
            is_lexical=embedder.lexical,
        )
        .on_conflict_do_nothing(index_elements=["provider", "name", "version"])
    )
    found = await session.execute(
        select(EmbeddingModel.id).where(
            EmbeddingModel.provider == embedder.provider,
            EmbeddingModel.name == embedder.model,
            EmbeddingModel.version == VERSION,
        )
    )
    return found.scalar_one()


async def listed(session: AsyncSession) -> list[EmbeddingModel]:
    found = await session.execute(select(EmbeddingModel).order_by(EmbeddingModel.created_at))
    return list(found.scalars())


async def start_switch(
    session: AsyncSession, principal: Principal, embedders: Embedders, provider: str
) -> Embedder:
    """Queue the tenant's move to `provider`'s model (`migration.switch`, in the
    background); the target embedder."""
    principal.require("settings:write")
    offered = embedders.providers()
    if provider not in offered:
        raise ValidationFailed(f"one of {', '.join(offered)} (as configured here)", field="to")
    target = embedders.get(provider)
    model = label(target)
    tenant_id = principal.tenant_id
    await defer_in(session, SWITCH, lock=f"switch:{tenant_id}", tenant_id=tenant_id, to=model)
    await record(session, principal, "start_switch", "embedding_model", None, data={"to": model})
    return target
