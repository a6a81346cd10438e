"""The registry of embedding models (`embedding_models`): every embedder in use has a row."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from personae.knowledge.models import EmbeddingModel
from personae.providers.embeddings import Embedder

VERSION = "1"


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
