"""AES-256-GCM sealing, and the associated data that binds a ciphertext to its place.

The only module that touches `cryptography`. Keys are 32 random bytes; every seal uses a
fresh 96-bit nonce. A ciphertext opens only with the same key and the same associated
data, so one copied to another tenant's, scope's or name's row does not decrypt."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from personae.errors import ConfigurationError, PersonaeError

KEY_BYTES = 32
NONCE_BYTES = 12


class DecryptionFailed(PersonaeError):
    """A ciphertext did not open: wrong key, wrong associated data, or tampered bytes."""

    title = "Decryption failed"


def new_key() -> bytes:
    return os.urandom(KEY_BYTES)


def encode_key(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode().rstrip("=")


def parse_master_key(value: str) -> bytes:
    """A master key from its base64 text (url-safe or standard, padding optional)."""
    text = value.strip()
    try:
        key = base64.urlsafe_b64decode(text.replace("+", "-").replace("/", "_") + "==")
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise ConfigurationError(
            "PERSONAE_MASTER_KEY must be 32 random bytes in base64; "
            "make one with `personae vault keygen`"
        )
    return key


def fingerprint(key: bytes) -> str:
    """A short, non-reversible name for a key (to tell keys apart in errors and rows)."""
    return hashlib.sha256(b"personae-key-fingerprint" + key).hexdigest()[:16]


def seal(key: bytes, plaintext: bytes, aad: bytes) -> tuple[bytes, bytes]:
    """Encrypt; returns (nonce, ciphertext with its tag)."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce, AESGCM(key).encrypt(nonce, plaintext, aad)


def unseal(key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, aad)
    except InvalidTag:
        raise DecryptionFailed("the secret does not open with this key and place") from None


def secret_aad(
    tenant_id: uuid.UUID,
    scope: str,
    scope_id: uuid.UUID | None,
    secret_type: str,
    key_name: str,
) -> bytes:
    """Associated data of a secret: where it belongs (never secret itself)."""
    parts = (
        "personae-secret-v1",
        str(tenant_id),
        scope,
        str(scope_id or ""),
        secret_type,
        key_name,
    )
    return "\x1f".join(parts).encode()


def data_key_aad(version: int) -> bytes:
    """Associated data of a data key wrapped by the master key."""
    return f"personae-data-key-v1\x1f{version}".encode()
