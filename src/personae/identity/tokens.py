"""Credentials on the wire: short-lived access JWTs, opaque refresh and API tokens.

Opaque tokens carry the tenant they belong to, so the tenant can be bound before the
token is looked up (by its SHA-256: the tokens are 256-bit random, so a fast hash is
enough). The only module that touches PyJWT."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from functools import lru_cache

import jwt

from personae.errors import Unauthorized

ISSUER = "personae"
ALGORITHM = "HS256"
REFRESH_PREFIX = "prt"
API_TOKEN_PREFIX = "pat"  # noqa: S105 - a visible marker, not a secret


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    tenant_id: uuid.UUID
    session_id: uuid.UUID
    expires_at: int


def signing_key(master_key: bytes) -> bytes:
    """The JWT key, derived from the master key (so there is one secret to keep)."""
    return hmac.new(master_key, b"personae-jwt-signing-v1", hashlib.sha256).digest()


def issue_access(key: bytes, claims: AccessClaims) -> str:
    payload = {
        "iss": ISSUER,
        "sub": str(claims.user_id),
        "tid": str(claims.tenant_id),
        "sid": str(claims.session_id),
        "iat": int(time.time()),
        "exp": claims.expires_at,
    }
    return jwt.encode(payload, key, algorithm=ALGORITHM)


def read_access(key: bytes, token: str) -> AccessClaims:
    """Verify signature, issuer and expiry; raise Unauthorized otherwise. (A token once
    verified is remembered, keyed by itself and the key: only its expiry is checked again.)"""
    claims = _verified(key, token)
    if claims.expires_at <= time.time():
        raise Unauthorized("the access token has expired; refresh it")
    return claims


@lru_cache(maxsize=4096)
def _verified(key: bytes, token: str) -> AccessClaims:
    try:
        payload = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "sub", "tid", "sid", "iss"]},
        )
        return AccessClaims(
            user_id=uuid.UUID(payload["sub"]),
            tenant_id=uuid.UUID(payload["tid"]),
            session_id=uuid.UUID(payload["sid"]),
            expires_at=int(payload["exp"]),
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("the access token has expired; refresh it") from None
    except (jwt.InvalidTokenError, ValueError, KeyError):
        raise Unauthorized("the access token is not valid") from None


@dataclass(frozen=True)
class OpaqueToken:
    """`<prefix>_<tenant hex><id hex>_<secret>`: what is shown once to its holder."""

    prefix: str
    tenant_id: uuid.UUID
    token_id: uuid.UUID
    secret: str

    def __str__(self) -> str:
        return f"{self.prefix}_{self.tenant_id.hex}{self.token_id.hex}_{self.secret}"

    @property
    def digest(self) -> str:
        return token_digest(str(self))


def new_opaque(prefix: str, tenant_id: uuid.UUID, token_id: uuid.UUID) -> OpaqueToken:
    return OpaqueToken(prefix, tenant_id, token_id, secrets.token_urlsafe(32))


def parse_opaque(prefix: str, token: str) -> OpaqueToken:
    head, _, rest = token.partition("_")
    ids, _, secret = rest.partition("_")
    if head != prefix or len(ids) != 64 or len(secret) < 32:
        raise Unauthorized("the token is not valid")
    try:
        return OpaqueToken(prefix, uuid.UUID(ids[:32]), uuid.UUID(ids[32:]), secret)
    except ValueError:
        raise Unauthorized("the token is not valid") from None


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same_digest(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
