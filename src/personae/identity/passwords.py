"""Password hashing with argon2id (the only module that touches argon2)."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()  # argon2id, the library's current recommended parameters
MIN_LENGTH = 12


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches. Unknown users are checked against a dummy hash by the
    caller, so timing does not tell whether an account exists."""
    if password_hash is None:
        password_hash = _DUMMY
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def generate_password() -> str:
    """A one-time password for a new owner: 24 url-safe characters (~143 bits)."""
    return secrets.token_urlsafe(18)


_DUMMY = hash_password(secrets.token_urlsafe(16))
