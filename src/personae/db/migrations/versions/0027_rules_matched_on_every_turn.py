"""rules matched on every turn

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07

A rule gains example messages, a step scope, a cooldown, a most fires a session and tags.
Its condition and examples are embedded as `rule_phrasings` (one row each, with the
agent, so a turn finds its agent's nearest phrasings through one HNSW index), and each
time a rule applies in a session is kept in `rule_fires`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from pgvector.sqlalchemy import Vector
from sqlalchemy.dialects import postgresql

from personae.db.migrate import apply_script, frozen

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXTS = sa.text("'{}'::text[]")


def _key(table: str) -> list[Any]:
    return [
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f(f"pk_{table}")),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f(f"fk_{table}_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
    ]


def upgrade() -> None:
    op.add_column(
        "rules",
        sa.Column("examples", postgresql.ARRAY(sa.Text()), server_default=TEXTS, nullable=False),
    )
    op.add_column("rules", sa.Column("scope_step", sa.String(length=255), nullable=True))
    op.add_column(
        "rules",
        sa.Column("cooldown_turns", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    op.add_column("rules", sa.Column("max_fires_per_session", sa.Integer(), nullable=True))
    op.add_column(
        "rules",
        sa.Column("tags", postgresql.ARRAY(sa.Text()), server_default=TEXTS, nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_rules_scope_step_matches_scope"),
        "rules",
        "(scope = 'STEP') = (scope_step IS NOT NULL)",
    )
    op.create_table(
        "rule_phrasings",
        *_key("rule_phrasings"),
        sa.Column("rule_id", sa.Uuid(), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("embedding", Vector(dim=384), nullable=True),
        sa.Column("embedding_model", sa.String(length=100), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "text_tsv",
            postgresql.TSVECTOR(),
            sa.Computed("to_tsvector('english'::regconfig, coalesce(text, ''))", persisted=True),
            nullable=True,
        ),
        sa.CheckConstraint(
            "kind IN ('CONDITION', 'EXAMPLE')", name=op.f("ck_rule_phrasings_kind_valid")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "rule_id"],
            ["rules.tenant_id", "rules.id"],
            name=op.f("fk_rule_phrasings_tenant_id_rule_id_rules"),
            ondelete="CASCADE",
        ),
    )
    op.create_index("idx_rule_phrasings_agent", "rule_phrasings", ["tenant_id", "agent_id"])
    op.create_index("idx_rule_phrasings_rule", "rule_phrasings", ["tenant_id", "rule_id"])
    op.create_index(
        "ix_rule_phrasings_embedding_hnsw",
        "rule_phrasings",
        ["embedding"],
        postgresql_using="hnsw",
        postgresql_ops={"embedding": "vector_cosine_ops"},
    )
    op.create_index(
        "ix_rule_phrasings_text_tsv_gin", "rule_phrasings", ["text_tsv"], postgresql_using="gin"
    )
    op.create_table(
        "rule_fires",
        *_key("rule_fires"),
        sa.Column("rule_id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("turn_number", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "rule_id"],
            ["rules.tenant_id", "rules.id"],
            name=op.f("fk_rule_fires_tenant_id_rule_id_rules"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "session_id"],
            ["sessions.tenant_id", "sessions.id"],
            name=op.f("fk_rule_fires_tenant_id_session_id_sessions"),
            ondelete="CASCADE",
        ),
    )
    op.create_index("idx_rule_fires_session", "rule_fires", ["tenant_id", "session_id", "rule_id"])
    apply_script(frozen("0027_tenant_isolation.sql"))


def downgrade() -> None:
    op.drop_table("rule_fires")
    op.drop_table("rule_phrasings")
    op.drop_constraint(op.f("ck_rules_scope_step_matches_scope"), "rules", type_="check")
    for column in ("tags", "max_fires_per_session", "cooldown_turns", "scope_step", "examples"):
        op.drop_column("rules", column)
