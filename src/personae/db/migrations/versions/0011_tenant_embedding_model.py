"""each tenant chooses its embedding model

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24

`tenants.embedding_model` names the model (`provider/model`, as rows record it) whose
vectors the tenant's searches read and its new rows get; null means the installation's
default (`PERSONAE_EMBEDDER`). A migration job changes it once every live row has a
vector of the new model.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("tenants", sa.Column("embedding_model", sa.String(100), nullable=True))


def downgrade() -> None:
    op.drop_column("tenants", "embedding_model")
