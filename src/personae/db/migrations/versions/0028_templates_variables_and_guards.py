"""templates, variables and rule filters

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07

A template may apply in one step of a scenario, like a rule. A variable says when its
resolver computes it again (`refresh`) and how long a computed value holds
(`ttl_seconds`). A rule may carry a filter: an expression over the session's variables
and the customer's profile that must hold for it to apply. A run records the templates
it rendered, the guards it checked and its rules' verification as steps of their own.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STEP_TYPES = [
    "llm_call",
    "tool_call",
    "rag_retrieval",
    "memory_retrieval",
    "rule_match",
    "prompt_assembly",
    "message",
    "error",
]


def upgrade() -> None:
    op.add_column("templates", sa.Column("scope_step", sa.String(length=255), nullable=True))
    op.create_check_constraint(
        op.f("ck_templates_scope_step_matches_scope"),
        "templates",
        "(scope = 'STEP') = (scope_step IS NOT NULL)",
    )
    op.add_column(
        "variables",
        sa.Column("refresh", sa.String(length=20), server_default="SESSION_START", nullable=False),
    )
    op.add_column("variables", sa.Column("ttl_seconds", sa.Integer(), nullable=True))
    op.create_check_constraint(
        op.f("ck_variables_refresh_valid"),
        "variables",
        "refresh IN ('SESSION_START', 'TURN', 'RULE_FIRE')",
    )
    op.create_check_constraint(op.f("ck_variables_ttl_positive"), "variables", "ttl_seconds > 0")
    op.add_column("rules", sa.Column("filter_expression", sa.Text(), nullable=True))
    _step_types([*STEP_TYPES, "template", "guard", "rule_verification"])


def _step_types(types: list[str]) -> None:
    name = op.f("ck_run_steps_step_type_valid")
    op.drop_constraint(name, "run_steps", type_="check")
    listed = ", ".join(f"'{t}'" for t in types)
    op.create_check_constraint(name, "run_steps", f"step_type IN ({listed})")


def downgrade() -> None:
    _step_types(STEP_TYPES)
    op.drop_column("rules", "filter_expression")
    op.drop_constraint(op.f("ck_variables_ttl_positive"), "variables", type_="check")
    op.drop_constraint(op.f("ck_variables_refresh_valid"), "variables", type_="check")
    op.drop_column("variables", "ttl_seconds")
    op.drop_column("variables", "refresh")
    op.drop_constraint(op.f("ck_templates_scope_step_matches_scope"), "templates", type_="check")
    op.drop_column("templates", "scope_step")
