"""vectors kept in their rows

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03

A 384-dimension vector takes 1.5 kB. With a chunk's text or a tool's schema beside it, a
row passes PostgreSQL's 2 kB TOAST threshold, and the vector, its largest value, was the
one moved out of line: every distance computed then read it back from the TOAST table
(a search over 1,000 chunks touched 6,000 pages). `STORAGE MAIN` keeps every vector
column's values in their rows (texts and JSON are moved out first). Rows written before
keep their layout until their vector is written again.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVERY_VECTOR_COLUMN = """
DO $$
DECLARE
  v_column record;
BEGIN
  FOR v_column IN
    SELECT c.relname, a.attname
    FROM pg_attribute AS a
    JOIN pg_class AS c ON c.oid = a.attrelid
    JOIN pg_namespace AS n ON n.oid = c.relnamespace
    JOIN pg_type AS t ON t.oid = a.atttypid
    WHERE t.typname = 'vector' AND c.relkind IN ('r', 'p') AND n.nspname = current_schema()
      AND a.attnum > 0 AND NOT a.attisdropped
  LOOP
    EXECUTE format('ALTER TABLE %I ALTER COLUMN %I SET STORAGE {storage}',
                   v_column.relname, v_column.attname);
  END LOOP;
END
$$;
"""


def upgrade() -> None:
    op.execute(EVERY_VECTOR_COLUMN.format(storage="MAIN"))


def downgrade() -> None:
    op.execute(EVERY_VECTOR_COLUMN.format(storage="DEFAULT"))
