"""Stored objects: bytes in `storage_objects`, in a bucket of the tenant's."""

from __future__ import annotations

import hashlib
import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from personae.storage.models import StorageBucket, StorageObject


async def bucket_id(session: AsyncSession, tenant_id: uuid.UUID, name: str) -> uuid.UUID:
    """The tenant's bucket `name`, made on first use."""
    await session.execute(
        insert(StorageBucket)
        .values(tenant_id=tenant_id, name=name)
        .on_conflict_do_nothing(index_elements=["tenant_id", "name"])
    )
    found = await session.execute(select(StorageBucket.id).where(StorageBucket.name == name))
    return found.scalar_one()


async def put(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    bucket: str,
    name: str,
    content: bytes,
    *,
    mime_type: str,
    owner: uuid.UUID | None = None,
) -> StorageObject:
    """Store `content` as a new object named `name` in `bucket`, with its SHA-256."""
    stored = StorageObject(
        tenant_id=tenant_id,
        bucket_id=await bucket_id(session, tenant_id, bucket),
        name=name,
        owner=owner,
        mime_type=mime_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
    )
    session.add(stored)
    await session.flush()
    return stored


async def content(session: AsyncSession, object_id: uuid.UUID) -> bytes:
    found = await session.execute(
        select(StorageObject.content).where(StorageObject.id == object_id)
    )
    return found.scalar_one() or b""
