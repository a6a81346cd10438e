"""events and messages reach their tenant through their session

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24

`session_events` and `messages` are the rows written most: every append writes one of
each per event. Both reference their session by `(tenant_id, session_id)`, which already
pins the tenant and cascades from it; their own foreign key to `tenants` added a lookup
per row (about a quarter of a 100-event append) and no guarantee.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("session_events", "messages")


def upgrade() -> None:
    for table in TABLES:
        op.drop_constraint(f"fk_{table}_tenant_id_tenants", table, type_="foreignkey")


def downgrade() -> None:
    for table in TABLES:
        op.create_foreign_key(
            f"fk_{table}_tenant_id_tenants",
            table,
            "tenants",
            ["tenant_id"],
            ["id"],
            ondelete="CASCADE",
        )
