"""full-text match usable under row-level security

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

Under RLS, PostgreSQL evaluates a condition before the tenant policy only when its
function is LEAKPROOF; `tsvector @@ tsquery` (ts_match_vq) is not marked so, which keeps
every full-text search off its GIN index. The function raises no data-dependent errors,
so it is marked LEAKPROOF here. Only a superuser may do that: on a managed server where
the migrator is not one, a notice says so, and full-text search still works, unindexed
(see docs/operations.md).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _set_leakproof(flag: str) -> None:
    op.execute(
        f"""
        DO $$
        BEGIN
          IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
            ALTER FUNCTION pg_catalog.ts_match_vq(tsvector, tsquery) {flag};
          ELSE
            RAISE NOTICE 'personae: not a superuser, so ts_match_vq stays as it is; '
              'full-text search under RLS will not use GIN indexes until a superuser runs '
              'ALTER FUNCTION pg_catalog.ts_match_vq(tsvector, tsquery) LEAKPROOF';
          END IF;
        END
        $$;
        """
    )


def upgrade() -> None:
    _set_leakproof("LEAKPROOF")


def downgrade() -> None:
    _set_leakproof("NOT LEAKPROOF")
