"""password hashes out of the application role's reach

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06

The application role could read every user's password hash. It now may not read the
column at all (column privileges: every other column of `users` stays readable, and every
column writable, so a new password is still set by the application). A sign-in is checked
by two functions running as the owner (SECURITY DEFINER):

- `personae_password_setting(email)`: the account's id and its hash's setting (algorithm,
  parameters and salt: the stored hash without its digest) and the digest's length;
- `personae_password_matches(user, hash)`: whether the hash the application computed from
  the password offered, with that setting, is the stored one.

The digest never leaves the database: whoever holds the application role can only try
passwords one by one, as a sign-in does, never crack the hashes offline. A column added to
`users` later must be granted to the application role by its migration.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "personae_app"

SETTING = r"""
CREATE FUNCTION personae_password_setting(p_email text)
RETURNS TABLE (user_id uuid, setting text, digest_bytes int)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public AS $$
  SELECT u.id, substring(u.password_hash FROM '^(.*)\$[^$]*$'),
         length(substring(u.password_hash FROM '\$([^$]*)$')) * 3 / 4
  FROM users AS u
  WHERE lower(u.email) = lower(btrim(p_email)) AND u.deleted_at IS NULL
$$
"""

MATCHES = """
CREATE FUNCTION personae_password_matches(p_user uuid, p_hash text)
RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public AS $$
  SELECT coalesce(
    (SELECT u.password_hash = p_hash FROM users AS u
     WHERE u.id = p_user AND u.deleted_at IS NULL), false)
$$
"""

READABLE_BUT_THE_HASH = f"""
DO $$
DECLARE readable text;
BEGIN
  SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position) INTO readable
  FROM information_schema.columns
  WHERE table_schema = 'public' AND table_name = 'users' AND column_name <> 'password_hash';
  REVOKE SELECT ON users FROM {APP_ROLE};
  EXECUTE format('GRANT SELECT (%s) ON users TO {APP_ROLE}', readable);
END
$$
"""

FUNCTIONS = {
    "personae_password_setting": "text",
    "personae_password_matches": "uuid, text",
}


def upgrade() -> None:
    op.execute(SETTING)
    op.execute(MATCHES)
    for name, arguments in FUNCTIONS.items():
        op.execute(f"REVOKE ALL ON FUNCTION {name}({arguments}) FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {name}({arguments}) TO {APP_ROLE}")
    op.execute(READABLE_BUT_THE_HASH)


def downgrade() -> None:
    op.execute(f"GRANT SELECT ON users TO {APP_ROLE}")
    for name, arguments in FUNCTIONS.items():
        op.execute(f"DROP FUNCTION {name}({arguments})")
