"""the job queue: procrastinate's tables and functions

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23

Applies the schema of the installed procrastinate (3.10). Its tables are global (jobs
carry tenant ids in their arguments, never secrets). When procrastinate is upgraded, add
a migration that applies its new files from `procrastinate/sql/migrations`.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources

from alembic import op
from sqlalchemy.util import await_only

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    schema = resources.files("procrastinate.sql").joinpath("schema.sql").read_text()
    # A script of many statements: the driver's simple protocol, in the migration's transaction.
    driver = op.get_bind().connection.driver_connection
    assert driver is not None
    await_only(driver.execute(schema))


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
