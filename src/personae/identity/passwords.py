"""Password hashing with argon2id (the only module that touches argon2).

The stored hash is `$argon2id$v=19$m=…,t=…,p=…$<salt>$<digest>`. The application never
reads it back: the database hands out its *setting* (all but the digest) and compares a
hash computed here with the same setting (`hash_like`) to the stored one
(`password_checks`)."""

from __future__ import annotations

import base64
import secrets

from argon2 import PasswordHasher, Type
from argon2.low_level import hash_secret

_hasher = PasswordHasher()  # argon2id, the library's current recommended parameters
MIN_LENGTH = 12
_TYPES = {"argon2id": Type.ID, "argon2i": Type.I, "argon2d": Type.D}


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def hash_like(setting: str, digest_bytes: int, password: str) -> str:
    """The whole encoded hash of `password` with the algorithm, parameters and salt of
    `setting` (a stored hash without its digest): equal to the stored hash exactly when
    `password` is the one it was made from. An unreadable setting gives a hash that
    matches nothing."""
    try:
        _, variant, version, parameters, salt = setting.split("$")
        given = dict(pair.split("=") for pair in parameters.split(","))
        encoded = hash_secret(
            password.encode(),
            base64.b64decode(salt + "=" * (-len(salt) % 4)),
            time_cost=int(given["t"]),
            memory_cost=int(given["m"]),
            parallelism=int(given["p"]),
            hash_len=digest_bytes,
            type=_TYPES[variant],
            version=int(version.removeprefix("v=")),
        )
    except (ValueError, KeyError):
        return "unreadable setting"
    return encoded.decode()


def generate_password() -> str:
    """A one-time password for a new owner: 24 url-safe characters (~143 bits)."""
    return secrets.token_urlsafe(18)


_DUMMY = hash_password(secrets.token_urlsafe(16))
DUMMY_SETTING, _, _digest = _DUMMY.rpartition("$")
DUMMY_DIGEST_BYTES = len(_digest) * 3 // 4
"""What an account without a password (or no account) is checked against, so that the
time a check takes does not tell whether the account exists."""
