"""Whether a password is an account's, asked of the database: the application role may not
read password hashes (`db/sql/password_setting.sql`, `password_matches.sql`), so it
computes the hash of the password offered with the stored hash's setting and the
database compares."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from personae.identity.passwords import DUMMY_DIGEST_BYTES, DUMMY_SETTING, hash_like

SETTING = text("SELECT user_id, setting, digest_bytes FROM personae_password_setting(:email)")
MATCHES = text("SELECT personae_password_matches(:user, :hash)")


async def password_of(session: AsyncSession, email: str, password: str) -> uuid.UUID | None:
    """The id of the account of `email` when `password` is its password, else None; the
    same work either way (no account, or one without a password, is checked against a
    dummy), so timing does not tell them apart."""
    row = (await session.execute(SETTING, {"email": email})).first()
    if row is None or row.setting is None:
        hash_like(DUMMY_SETTING, DUMMY_DIGEST_BYTES, password)  # the same work
        return None
    user_id: uuid.UUID = row.user_id
    candidate = hash_like(row.setting, row.digest_bytes, password)
    matches = (await session.execute(MATCHES, {"user": user_id, "hash": candidate})).scalar()
    return user_id if matches else None
