"""facts found by subject and relation

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-07

A fact write reads the current facts of its (subject, relation) pairs. By subject alone
the index left the relation to a filter, and on a table filling faster than it was
analyzed the planner preferred the relation's index: every row of the relation, for a
handful of subjects. The subject's index now holds the relation too (it still serves
lookups by subject alone).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("idx_relationships_source", table_name="relationships")
    op.create_index(
        "idx_relationships_source",
        "relationships",
        ["tenant_id", "source_entity_id", "relationship_type"],
    )


def downgrade() -> None:
    op.drop_index("idx_relationships_source", table_name="relationships")
    op.create_index("idx_relationships_source", "relationships", ["tenant_id", "source_entity_id"])
