"""functions as db/sql/ writes them

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06

`personae_authenticate` and `personae_notify_access` again, as their source files in
`db/sql/` write them (the same statements, without the indentation the first migrations
left in their bodies), so that the database runs what the sources say, to the character.
"""

from __future__ import annotations

from collections.abc import Sequence

from personae.db.migrate import apply_script, frozen

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    apply_script(frozen("0024_authenticate.sql"))
    apply_script(frozen("0024_notify_access.sql"))


def downgrade() -> None:
    apply_script(frozen("0005_authenticate.sql"))
    apply_script(frozen("0006_notify_access.sql"))
