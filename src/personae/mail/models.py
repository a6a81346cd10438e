"""emails (001); email attachments are rows of `attachments`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from personae.db.base import Base, Created, TenantOwned, gin, one_of, searchable, tenant_fk


class Email(TenantOwned, Created, Base):
    __tablename__ = "emails"
    __table_args__ = (
        tenant_fk("persona_id", "personas"),
        tenant_fk("run_id", "runs", ondelete="SET NULL"),
        one_of("direction", ("inbound", "outbound")),
        Index("idx_emails_persona_id", "tenant_id", "persona_id"),
        Index("idx_emails_run_id", "tenant_id", "run_id"),
        Index("idx_emails_thread_id", "tenant_id", "thread_id"),
        Index("idx_emails_created_at", "tenant_id", "created_at"),
        Index("ix_emails_message_id", "tenant_id", "message_id"),
        gin("emails", "body_tsv"),
    )

    persona_id: Mapped[uuid.UUID]
    run_id: Mapped[uuid.UUID | None]
    direction: Mapped[str] = mapped_column(String(50))
    message_id: Mapped[str | None] = mapped_column(String(255))
    thread_id: Mapped[str | None] = mapped_column(String(255))
    from_email: Mapped[str] = mapped_column(String(255))
    to_email: Mapped[str] = mapped_column(String(255))
    cc: Mapped[str | None]
    bcc: Mapped[str | None]
    subject: Mapped[str | None]
    body_text: Mapped[str | None]
    body_html: Mapped[str | None]
    received_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    body_tsv: Mapped[Any] = searchable("subject", "body_text")
