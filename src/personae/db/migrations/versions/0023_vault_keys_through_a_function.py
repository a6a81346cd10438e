"""the vault's wrapped data keys read through a function only

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06

The application role read `vault_keys` directly. It now may not select from the table;
`personae_vault_keys()`, running as the owner, hands it the wrapped keys it needs to open
secrets with the master key (which never enters the database). Adding a key stays the
owner's (`personae vault rotate`, `personae serve` on a fresh database).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "personae_app"

KEYS = """
CREATE FUNCTION personae_vault_keys()
RETURNS TABLE (version smallint, wrapped_key bytea, nonce bytea, master_fingerprint text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public AS $$
  SELECT k.version, k.wrapped_key, k.nonce, k.master_fingerprint::text
  FROM vault_keys AS k ORDER BY k.version
$$
"""


def upgrade() -> None:
    op.execute(KEYS)
    op.execute("REVOKE ALL ON FUNCTION personae_vault_keys() FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION personae_vault_keys() TO {APP_ROLE}")
    op.execute(f"REVOKE SELECT ON vault_keys FROM {APP_ROLE}")


def downgrade() -> None:
    op.execute(f"GRANT SELECT ON vault_keys TO {APP_ROLE}")
    op.execute("DROP FUNCTION personae_vault_keys()")
