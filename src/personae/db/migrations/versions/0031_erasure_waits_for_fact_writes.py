"""erasure waits for fact writes

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-07

Erasing episodes deletes the facts only they supported (`personae_forget_support`). A
fact write under way could cut such a fact short and record what still held of it anew,
citing the same episodes; the trigger's DELETE waited for the row, then could not see the
new one, which outlived the erasure. The trigger now first locks the facts the episodes
support, waiting for such a write to end; its statements after that see what it wrote.
"""

from __future__ import annotations

from collections.abc import Sequence

from personae.db.migrate import apply_script, frozen

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    apply_script(frozen("0031_forget_support.sql"))


def downgrade() -> None:
    apply_script(frozen("0016_forget_support.sql"))
