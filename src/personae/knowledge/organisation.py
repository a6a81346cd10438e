"""How documents are organised: categories (a tree), tags, collections (named sets of
documents, like vector stores), and the teams a document is shared with."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from personae.errors import ValidationFailed
from personae.identity.models import Team
from personae.kernel.audit.service import record
from personae.kernel.principal import Principal
from personae.kernel.resources import Resource
from personae.knowledge.documents import DOCUMENTS
from personae.knowledge.models import (
    Collection,
    CollectionItem,
    Document,
    DocumentCategory,
    DocumentCategoryAssociation,
    DocumentTag,
    DocumentTagAssociation,
    DocumentTeam,
)

ORGANISE = {"create": "update", "update": "update", "delete": "update"}
"""Organising documents needs `documents:update` (reading them, `documents:read`)."""

ANCESTORS = text(
    "WITH RECURSIVE up(id) AS (SELECT CAST(:start AS uuid) UNION "
    "SELECT c.parent_id FROM document_categories AS c JOIN up ON c.id = up.id "
    "WHERE c.parent_id IS NOT NULL) SELECT count(*) FROM up WHERE id = :moved"
)


class _Categories(Resource[DocumentCategory]):
    async def update(
        self,
        session: AsyncSession,
        principal: Principal,
        row_id: uuid.UUID,
        changes: Mapping[str, Any],
        where: Mapping[str, Any] | None = None,
    ) -> DocumentCategory:
        """Move or rename; a category can't move under itself or its descendants."""
        parent = changes.get("parent_id")
        if parent is not None:
            loops = await session.execute(ANCESTORS, {"start": parent, "moved": row_id})
            if loops.scalar_one():
                raise ValidationFailed("a category can't sit below itself", field="parent_id")
        return await super().update(session, principal, row_id, changes, where)


CATEGORIES = _Categories(
    DocumentCategory,
    "document_category",
    "documents",
    unique=("parent_id", "name"),
    actions=ORGANISE,
    references={"parent_id": DocumentCategory},
)
TAGS = Resource(DocumentTag, "document_tag", "documents", unique=("name",), actions=ORGANISE)
COLLECTIONS = Resource(Collection, "collection", "documents", unique=("name",), actions=ORGANISE)
COLLECTION_ITEMS = Resource(
    CollectionItem,
    "collection_item",
    "documents",
    unique=("collection_id", "document_id"),
    actions=ORGANISE,
    references={"document_id": Document},
)


async def set_categories(
    session: AsyncSession,
    principal: Principal,
    document_id: uuid.UUID,
    category_ids: Sequence[uuid.UUID],
) -> list[uuid.UUID]:
    """File the document under exactly these categories."""
    await DOCUMENTS.get(session, principal, document_id, action="update")
    wanted = list(dict.fromkeys(category_ids))
    found = set(
        (
            await session.execute(
                select(DocumentCategory.id).where(DocumentCategory.id.in_(wanted))
            )
        ).scalars()
    )
    missing = [str(c) for c in wanted if c not in found]
    if missing:
        raise ValidationFailed(f"no such categories: {', '.join(missing)}", field="category_ids")
    await session.execute(
        delete(DocumentCategoryAssociation).where(
            DocumentCategoryAssociation.document_id == document_id
        )
    )
    if wanted:
        await session.execute(
            insert(DocumentCategoryAssociation).values(
                [
                    {"tenant_id": principal.tenant_id, "document_id": document_id, "category_id": c}
                    for c in wanted
                ]
            )
        )
    await record(
        session,
        principal,
        "categorise",
        "document",
        document_id,
        data={"category_ids": [str(c) for c in wanted]},
    )
    return wanted


async def set_tags(
    session: AsyncSession, principal: Principal, document_id: uuid.UUID, names: Sequence[str]
) -> list[str]:
    """Tag the document with exactly these tags (made on first use)."""
    await DOCUMENTS.get(session, principal, document_id, action="update")
    wanted = list(dict.fromkeys(name.strip() for name in names if name.strip()))
    if any(len(name) > 100 for name in wanted):
        raise ValidationFailed("a tag is at most 100 characters", field="tags")
    if wanted:
        await session.execute(
            insert(DocumentTag)
            .values([{"tenant_id": principal.tenant_id, "name": name} for name in wanted])
            .on_conflict_do_nothing(index_elements=["tenant_id", "name"])
        )
    await session.execute(
        delete(DocumentTagAssociation).where(DocumentTagAssociation.document_id == document_id)
    )
    if wanted:
        tag_ids = select(DocumentTag.id).where(DocumentTag.name.in_(wanted))
        for tag_id in (await session.execute(tag_ids)).scalars():
            session.add(
                DocumentTagAssociation(
                    tenant_id=principal.tenant_id, document_id=document_id, tag_id=tag_id
                )
            )
        await session.flush()
    await record(session, principal, "tag", "document", document_id, data={"tags": wanted})
    return wanted


async def document_tags(
    session: AsyncSession, principal: Principal, document_id: uuid.UUID
) -> list[str]:
    await DOCUMENTS.get(session, principal, document_id)
    found = await session.execute(
        select(DocumentTag.name)
        .join(DocumentTagAssociation, DocumentTagAssociation.tag_id == DocumentTag.id)
        .where(DocumentTagAssociation.document_id == document_id)
        .order_by(DocumentTag.name)
    )
    return list(found.scalars())


async def set_teams(
    session: AsyncSession,
    principal: Principal,
    document_id: uuid.UUID,
    grants: Sequence[tuple[uuid.UUID, str]],
) -> list[tuple[uuid.UUID, str]]:
    """Share the document with exactly these teams (`read` or `write`); none: with all."""
    await DOCUMENTS.get(session, principal, document_id, action="update")
    wanted = dict(grants)
    found = set((await session.execute(select(Team.id).where(Team.id.in_(wanted)))).scalars())
    missing = [str(t) for t in wanted if t not in found]
    if missing:
        raise ValidationFailed(f"no such teams: {', '.join(missing)}", field="teams")
    await session.execute(delete(DocumentTeam).where(DocumentTeam.document_id == document_id))
    session.add_all(
        DocumentTeam(
            tenant_id=principal.tenant_id,
            document_id=document_id,
            team_id=team_id,
            permission=permission,
        )
        for team_id, permission in wanted.items()
    )
    await session.flush()
    await record(
        session,
        principal,
        "share",
        "document",
        document_id,
        data={"teams": {str(t): p for t, p in wanted.items()}},
    )
    return list(wanted.items())
