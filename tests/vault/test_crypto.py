"""Properties of sealing, over arbitrary byte strings (hypothesis)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

from personae.errors import ConfigurationError
from personae.settings import Settings
from personae.vault.crypto import (
    DecryptionFailed,
    encode_key,
    new_key,
    parse_master_key,
    seal,
    secret_aad,
    unseal,
)
from personae.vault.keyring import resolve_master_key

KEY = new_key()
keys = st.binary(min_size=32, max_size=32)


@given(plaintext=st.binary(max_size=4096), aad=st.binary(max_size=256), key=keys)
def test_seal_then_unseal_is_identity(plaintext: bytes, aad: bytes, key: bytes) -> None:
    nonce, ciphertext = seal(key, plaintext, aad)
    assert unseal(key, nonce, ciphertext, aad) == plaintext
    assert len(ciphertext) == len(plaintext) + 16


@given(plaintext=st.binary(min_size=1, max_size=512), aad=st.binary(max_size=64), data=st.data())
def test_any_flipped_byte_fails(plaintext: bytes, aad: bytes, data: st.DataObject) -> None:
    nonce, ciphertext = seal(KEY, plaintext, aad)
    position = data.draw(st.integers(0, len(ciphertext) - 1))
    bit = data.draw(st.integers(0, 7))
    tampered = bytearray(ciphertext)
    tampered[position] ^= 1 << bit
    with pytest.raises(DecryptionFailed):
        unseal(KEY, nonce, bytes(tampered), aad)


@given(plaintext=st.binary(max_size=512), aad=st.binary(max_size=64), other=st.binary(max_size=64))
def test_other_associated_data_fails(plaintext: bytes, aad: bytes, other: bytes) -> None:
    nonce, ciphertext = seal(KEY, plaintext, aad)
    if other != aad:
        with pytest.raises(DecryptionFailed):
            unseal(KEY, nonce, ciphertext, other)


@given(plaintext=st.binary(max_size=512), key=keys)
def test_another_key_fails(plaintext: bytes, key: bytes) -> None:
    nonce, ciphertext = seal(KEY, plaintext, b"")
    if key != KEY:
        with pytest.raises(DecryptionFailed):
            unseal(key, nonce, ciphertext, b"")


def test_nonces_are_fresh() -> None:
    nonces = {seal(KEY, b"same", b"same")[0] for _ in range(1000)}
    assert len(nonces) == 1000


def test_associated_data_names_every_part_of_the_place() -> None:
    tenant, other = uuid.uuid4(), uuid.uuid4()
    base = secret_aad(tenant, "tenant", None, "other", "api_key")
    variants = [
        secret_aad(other, "tenant", None, "other", "api_key"),
        secret_aad(tenant, "persona", None, "other", "api_key"),
        secret_aad(tenant, "tenant", other, "other", "api_key"),
        secret_aad(tenant, "tenant", None, "llm_provider_key", "api_key"),
        secret_aad(tenant, "tenant", None, "other", "api_key2"),
    ]
    assert base not in variants and len(set(variants)) == len(variants)


@pytest.mark.parametrize("text", ["", "short", "x" * 44, encode_key(b"a" * 31)])
def test_bad_master_keys_are_configuration_errors(text: str) -> None:
    with pytest.raises(ConfigurationError, match="personae vault keygen"):
        parse_master_key(text)


def test_master_keys_parse_with_or_without_padding() -> None:
    key = new_key()
    import base64

    assert parse_master_key(encode_key(key)) == key
    assert parse_master_key(base64.b64encode(key).decode()) == key


def test_embedded_master_key_is_made_once_private(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    first = resolve_master_key(settings, embedded=True)
    assert resolve_master_key(settings, embedded=True) == first
    assert (tmp_path / "master.key").stat().st_mode & 0o777 == 0o600
    with pytest.raises(ConfigurationError, match="PERSONAE_MASTER_KEY is not set"):
        resolve_master_key(settings, embedded=False)
    given_key = new_key()
    explicit = Settings(data_dir=tmp_path, master_key=SecretStr(encode_key(given_key)))
    assert resolve_master_key(explicit, embedded=False) == given_key
