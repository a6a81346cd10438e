"""persona names unique among a tenant's live personas

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06

Duplicate persona names were accepted, after which the front door and `personae chat`
(which name a persona) answered 409. A live persona's name is now unique in its tenant
(deleted ones keep theirs). Of live duplicates already there, the first made keeps the
name and the others get the end of their id added (`Ada (3f9c2a1b)`), so that the index
can be built.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = sa.text("deleted_at IS NULL")


def upgrade() -> None:
    op.execute(
        """
        UPDATE personas AS p SET name = left(p.name, 240) || ' (' || right(p.id::text, 8) || ')'
        FROM (
          SELECT id, row_number() OVER (PARTITION BY tenant_id, name ORDER BY created_at, id)
                 AS place
          FROM personas WHERE deleted_at IS NULL
        ) AS d
        WHERE p.id = d.id AND d.place > 1
        """
    )
    op.drop_index("idx_personas_name", table_name="personas")
    op.create_index(
        "uq_personas_tenant_name",
        "personas",
        ["tenant_id", "name"],
        unique=True,
        postgresql_where=LIVE,
    )


def downgrade() -> None:
    op.drop_index("uq_personas_tenant_name", table_name="personas")
    op.create_index("idx_personas_name", "personas", ["tenant_id", "name"])
