"""EMBEDDING_MODELS (002): the registry of embedders every searched table's vectors name."""

from __future__ import annotations

from typing import Any

from sqlalchemy import CheckConstraint, String, UniqueConstraint
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column

from personae.db.base import Base, Created, GlobalId, json_object


class EmbeddingModel(GlobalId, Created, Base):
    """EMBEDDING_MODELS (002): the registry of embedders (a tenant's default is a setting)."""

    __tablename__ = "embedding_models"
    __table_args__ = (
        UniqueConstraint("provider", "name", "version"),
        CheckConstraint("dimensions > 0", name="dimensions_positive"),
    )

    name: Mapped[str] = mapped_column(String(255))
    provider: Mapped[str] = mapped_column(String(50))
    dimensions: Mapped[int]
    version: Mapped[str] = mapped_column(String(50), server_default="1")
    description: Mapped[str | None]
    configuration: Mapped[dict[str, Any]] = json_object()
    is_lexical: Mapped[bool] = mapped_column(server_default=sql_text("false"))
    is_default: Mapped[bool] = mapped_column(server_default=sql_text("false"))
