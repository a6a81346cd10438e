"""entities memory learned go when nothing is left that names them

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02

`entities.learned`: made by memory (a fact's subject or object, an extracted name), not
by a user. When episodes are erased, the facts they alone supported go (0014), and now
so does every learned entity that no fact, mention or document names any more: erasing
a conversation leaves no entity behind that only it had named.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from personae.db.migrate import frozen

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "entities",
        sa.Column("learned", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.execute("CREATE INDEX ix_entities_learned ON entities (tenant_id) WHERE learned")
    op.execute(frozen("0016_forget_support.sql"))


def downgrade() -> None:
    op.execute(frozen("0014_forget_support.sql"))
    op.execute("DROP INDEX ix_entities_learned")
    op.drop_column("entities", "learned")
