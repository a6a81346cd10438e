"""scenarios matched and versioned

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07

A scenario may be entered by an expression over the session's variables as well as by its
plain-language entry condition. Its entry condition and its transitions' conditions are
embedded per version as `scenario_phrasings` (with the agent, so a turn finds its
agent's nearest entry conditions through one HNSW index); sessions on an older version
keep their transitions' phrasings until no session needs them. An append may set or
clear a session's pending migration (`scenario.migrated` clears it, as entering or
leaving a scenario does). The application may refresh the phrasing tables' statistics
after a large import (`personae_analyze_phrasings`).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from pgvector.sqlalchemy import Vector

from personae.db.migrate import apply_script, frozen

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("scenarios", sa.Column("entry_expression", sa.Text(), nullable=True))
    op.create_table(
        "scenario_phrasings",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("scenario_id", sa.Uuid(), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("step", sa.String(length=255), nullable=True),
        sa.Column("transition", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("embedding", Vector(dim=384), nullable=True),
        sa.Column("embedding_model", sa.String(length=100), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_scenario_phrasings")),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_scenario_phrasings_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "scenario_id"],
            ["scenarios.tenant_id", "scenarios.id"],
            name=op.f("fk_scenario_phrasings_tenant_id_scenario_id_scenarios"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "kind IN ('ENTRY', 'TRANSITION')", name=op.f("ck_scenario_phrasings_kind_valid")
        ),
    )
    op.create_index("idx_scenario_phrasings_agent", "scenario_phrasings", ["tenant_id", "agent_id"])
    op.create_index(
        "idx_scenario_phrasings_version",
        "scenario_phrasings",
        ["tenant_id", "scenario_id", "version"],
    )
    op.create_index(
        "ix_scenario_phrasings_embedding_hnsw",
        "scenario_phrasings",
        ["embedding"],
        postgresql_using="hnsw",
        postgresql_ops={"embedding": "vector_cosine_ops"},
    )
    apply_script(frozen("0029_tenant_isolation.sql"))
    apply_script(frozen("0029_apply_envelope.sql"))
    apply_script(frozen("0029_analyze_phrasings.sql"))


def downgrade() -> None:
    op.execute("DROP FUNCTION personae_analyze_phrasings()")
    apply_script(frozen("0029_apply_envelope_down.sql"))
    op.drop_table("scenario_phrasings")
    op.drop_column("scenarios", "entry_expression")
