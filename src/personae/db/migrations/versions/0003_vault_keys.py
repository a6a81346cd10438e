"""vault data keys

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

The vault's data-encryption keys, each wrapped by the master key. The application role may
read them (to open secrets) but never write them: keys are added by `personae vault rotate`
and at start-up, as the owner.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "personae_app"


def upgrade() -> None:
    op.create_table(
        "vault_keys",
        sa.Column("version", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("nonce", sa.LargeBinary(), nullable=False),
        sa.Column("master_fingerprint", sa.String(length=16), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("version > 0", name=op.f("ck_vault_keys_version_positive")),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_vault_keys")),
    )
    op.execute(f"REVOKE ALL ON vault_keys FROM {APP_ROLE}")
    op.execute(f"GRANT SELECT ON vault_keys TO {APP_ROLE}")


def downgrade() -> None:
    op.drop_table("vault_keys")
