"""model configs carry their prices, so every call's cost can be recorded

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02

`input_cost_per_mtok` and `output_cost_per_mtok`: US dollars per million input and
output tokens; unset, a call's cost is unknown (recorded as null, never as zero).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PRICES = ("input_cost_per_mtok", "output_cost_per_mtok")


def upgrade() -> None:
    for column in PRICES:
        op.add_column("model_configs", sa.Column(column, sa.Numeric(12, 6), nullable=True))
        op.create_check_constraint(
            op.f(f"ck_model_configs_{column}_not_negative"),
            "model_configs",
            f"{column} IS NULL OR {column} >= 0",
        )


def downgrade() -> None:
    for column in PRICES:
        op.drop_constraint(op.f(f"ck_model_configs_{column}_not_negative"), "model_configs")
        op.drop_column("model_configs", column)
