"""Documents: uploads and new versions (ingested in the background), their chunks, and
their deletion. Categories, tags and collections are in `organisation.py`."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from personae.errors import ValidationFailed
from personae.jobs import Job, defer_in
from personae.kernel.audit.service import record
from personae.kernel.principal import Principal
from personae.kernel.resources import Action, Resource
from personae.knowledge import access
from personae.knowledge.extract import document_type
from personae.knowledge.models import Chunk, Document, DocumentVersion
from personae.memory.models import EntityDocumentAssociation
from personae.personas.models import Persona
from personae.storage import objects
from personae.storage.models import StorageObject

BUCKET = "documents"
INGEST = Job("ingest_document", queue="ingest")
CURATE = Job("curate_document", queue="ingest")
MAX_NAME = 255


class _Documents(Resource[Document]):
    async def authorize(
        self,
        session: AsyncSession,
        principal: Principal,
        action: Action,
        row: Document | None,
        where: Mapping[str, Any],
    ) -> None:
        await super().authorize(session, principal, action, row, where)
        if row is not None:
            await access.require(session, principal, row, "read" if action == "read" else "write")

    def visible(self, principal: Principal) -> ColumnElement[bool]:
        return access.readable(principal, Document.id)

    async def update(
        self,
        session: AsyncSession,
        principal: Principal,
        row_id: uuid.UUID,
        changes: Mapping[str, Any],
        where: Mapping[str, Any] | None = None,
    ) -> Document:
        """Rename, re-file or re-describe; chunks follow the document's persona."""
        row = await super().update(session, principal, row_id, changes, where)
        if "persona_id" in changes:
            await session.execute(
                update(Chunk).where(Chunk.document_id == row_id).values(persona_id=row.persona_id)
            )
        return row

    async def delete(
        self,
        session: AsyncSession,
        principal: Principal,
        row_id: uuid.UUID,
        where: Mapping[str, Any] | None = None,
        *,
        noted: Mapping[str, Any] | None = None,
    ) -> None:
        """Keep the document's record (deleted); erase its chunks (and the mentions in
        them), its links to entities, and its stored versions."""
        await super().delete(session, principal, row_id, where, noted=noted)
        await session.execute(delete(Chunk).where(Chunk.document_id == row_id))
        await session.execute(
            delete(EntityDocumentAssociation).where(EntityDocumentAssociation.document_id == row_id)
        )
        stored = select(DocumentVersion.storage_object_id).where(
            DocumentVersion.document_id == row_id
        )
        await session.execute(delete(StorageObject).where(StorageObject.id.in_(stored)))


DOCUMENTS = _Documents(Document, "document", "documents", references={"persona_id": Persona})


def _name(filename: str) -> str:
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name or len(name) > MAX_NAME:
        raise ValidationFailed(f"a file name of 1 to {MAX_NAME} characters", field="filename")
    return name


async def upload(
    session: AsyncSession,
    principal: Principal,
    filename: str,
    content: bytes,
    *,
    persona_id: uuid.UUID | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Document:
    """A new document from `content` (text, Markdown, HTML or PDF), queued for ingestion
    in the same transaction; it is `processing` until its chunks are written."""
    principal.require("documents:create")
    name = _name(filename)
    mime_type = _checked(content, name)
    await DOCUMENTS.check_references(session, {"persona_id": persona_id})
    row = Document(
        tenant_id=principal.tenant_id,
        persona_id=persona_id,
        name=name,
        source="upload",
        status="processing",
        current_version=0,
        metadata_=dict(metadata or {}),
        uploaded_by=principal.user_id,
    )
    session.add(row)
    await session.flush()
    await _add_version(session, principal, row, name, content, mime_type, None)
    await record(session, principal, "create", "document", row.id, data={"name": name})
    return row


async def replace(
    session: AsyncSession,
    principal: Principal,
    document_id: uuid.UUID,
    filename: str,
    content: bytes,
    *,
    change_note: str | None = None,
) -> Document:
    """A new version of the document; its chunks replace the old ones when ingested (until
    then, search keeps finding the old ones)."""
    row = await DOCUMENTS.get(session, principal, document_id, action="update")
    name = _name(filename)
    mime_type = _checked(content, name)
    version = await _add_version(session, principal, row, name, content, mime_type, change_note)
    await record(
        session, principal, "update", "document", row.id, data={"version": version.version}
    )
    return row


def _checked(content: bytes, name: str) -> str:
    if not content:
        raise ValidationFailed("the file is empty", field="body")
    return document_type(content, name)


async def _add_version(
    session: AsyncSession,
    principal: Principal,
    row: Document,
    name: str,
    content: bytes,
    mime_type: str,
    change_note: str | None,
) -> DocumentVersion:
    number = (
        1
        + (
            await session.execute(
                select(func.coalesce(func.max(DocumentVersion.version), 0)).where(
                    DocumentVersion.document_id == row.id
                )
            )
        ).scalar_one()
    )
    stored = await objects.put(
        session,
        principal.tenant_id,
        BUCKET,
        f"documents/{row.id}/v{number}",
        content,
        mime_type=mime_type,
        owner=principal.user_id,
    )
    version = DocumentVersion(
        tenant_id=principal.tenant_id,
        document_id=row.id,
        version=number,
        content_hash=stored.sha256,
        file_size=len(content),
        mime_type=mime_type,
        storage_object_id=stored.id,
        change_note=change_note,
        created_by=principal.user_id,
    )
    session.add(version)
    row.name, row.mime_type, row.file_size = name, mime_type, len(content)
    row.current_version, row.status, row.error_message = number, "processing", None
    await session.flush()
    await defer_in(
        session,
        INGEST,
        lock=f"document:{row.id}",
        tenant_id=principal.tenant_id,
        document_id=row.id,
        version=number,
    )
    await session.refresh(row)
    return version


async def versions(
    session: AsyncSession, principal: Principal, document_id: uuid.UUID
) -> list[DocumentVersion]:
    await DOCUMENTS.get(session, principal, document_id)
    found = await session.execute(
        select(DocumentVersion)
        .where(DocumentVersion.document_id == document_id)
        .order_by(DocumentVersion.version)
    )
    return list(found.scalars())


async def chunks(
    session: AsyncSession, principal: Principal, document_id: uuid.UUID
) -> list[Chunk]:
    """The document's live chunks, in order."""
    await DOCUMENTS.get(session, principal, document_id)
    found = await session.execute(
        select(Chunk)
        .where(Chunk.document_id == document_id, Chunk.retired_at.is_(None))
        .order_by(Chunk.is_curated, Chunk.chunk_index)
    )
    return list(found.scalars())
