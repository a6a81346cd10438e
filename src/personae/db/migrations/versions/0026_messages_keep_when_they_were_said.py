"""a message keeps the time it was said

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07

A message event's payload may say when the message was said (`occurred_at`: an imported
history's own time). `personae_write_views` writes it as the message's `created_at`
(else the time of the append, as before), and the memory written from the message (its
episode, the summaries and facts drawn from it) takes that time.
"""

from __future__ import annotations

from collections.abc import Sequence

from personae.db.migrate import apply_script, frozen

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    apply_script(frozen("0026_write_views.sql"))


def downgrade() -> None:
    apply_script(frozen("0026_write_views_down.sql"))
