"""personas say what OpenAI clients may set; runs may wait for the client's tools

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07

- `personas.client_sampling`: `persona` (its neuromodulators set the sampling parameters;
  a client's are left unused) or `client` (a client's temperature, top_p, penalties, seed,
  stop and reasoning effort win).
- `personas.client_instructions`: `append` (a client's system and developer messages
  follow the persona's system prompt) or `ignore`.
- a run's status may be `requires_action`: its model called a function of the client's,
  returned to the client, and the run goes on when the client sends the result.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POLICIES = {"client_sampling": ("persona", "client"), "client_instructions": ("append", "ignore")}
RUN_STATUSES = ("pending", "running", "completed", "failed", "cancelled")


def _one_of(values: Sequence[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def upgrade() -> None:
    for column, values in POLICIES.items():
        op.add_column(
            "personas",
            sa.Column(column, sa.String(20), nullable=False, server_default=values[0]),
        )
        op.create_check_constraint(
            op.f(f"ck_personas_{column}_valid"), "personas", f"{column} IN ({_one_of(values)})"
        )
    op.drop_constraint(op.f("ck_runs_status_valid"), "runs")
    op.create_check_constraint(
        op.f("ck_runs_status_valid"),
        "runs",
        f"status IN ({_one_of((*RUN_STATUSES, 'requires_action'))})",
    )


def downgrade() -> None:
    op.execute("UPDATE runs SET status = 'cancelled' WHERE status = 'requires_action'")
    op.drop_constraint(op.f("ck_runs_status_valid"), "runs")
    op.create_check_constraint(
        op.f("ck_runs_status_valid"), "runs", f"status IN ({_one_of(RUN_STATUSES)})"
    )
    for column in POLICIES:
        op.drop_constraint(op.f(f"ck_personas_{column}_valid"), "personas")
        op.drop_column("personas", column)
