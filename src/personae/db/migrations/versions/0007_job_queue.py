"""the job queue: procrastinate's tables and functions

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23

Applies procrastinate 3.10's schema, frozen in `db/migrations/sql/`. Its tables are global
(jobs carry tenant ids in their arguments, never secrets). When procrastinate is
upgraded, add a migration that applies frozen copies of its new files from
`procrastinate/sql/migrations`.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from personae.db.migrate import apply_script, frozen

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    apply_script(frozen("0007_procrastinate_schema.sql"))


def downgrade() -> None:
    op.execute(
        r"""
        DO $$
        DECLARE r record;
        BEGIN
          FOR r IN SELECT tablename FROM pg_tables
                   WHERE schemaname = 'public' AND tablename LIKE 'procrastinate\_%' LOOP
            EXECUTE format('DROP TABLE %I CASCADE', r.tablename);
          END LOOP;
          FOR r IN SELECT p.oid::regprocedure AS routine FROM pg_proc p
                   JOIN pg_namespace n ON n.oid = p.pronamespace
                   WHERE n.nspname = 'public' AND p.proname LIKE 'procrastinate\_%' LOOP
            EXECUTE format('DROP ROUTINE %s CASCADE', r.routine);
          END LOOP;
          FOR r IN SELECT t.typname FROM pg_type t
                   JOIN pg_namespace n ON n.oid = t.typnamespace
                   WHERE n.nspname = 'public' AND t.typname LIKE 'procrastinate\_%'
                     AND t.typtype IN ('e', 'c') AND t.typname NOT LIKE '\_%' LOOP
            EXECUTE format('DROP TYPE IF EXISTS %I CASCADE', r.typname);
          END LOOP;
        END
        $$
        """
    )
