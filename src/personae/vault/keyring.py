"""The master key, and the data keys it wraps (`vault_keys`).

The master key comes from PERSONAE_MASTER_KEY. With the embedded database and no key set,
one is made once and kept in DATA_DIR/master.key (mode 0600), beside the database files
but never in the database."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from personae.errors import ConfigurationError
from personae.settings import Settings
from personae.vault.crypto import (
    data_key_aad,
    encode_key,
    fingerprint,
    new_key,
    parse_master_key,
    seal,
    unseal,
)
from personae.vault.models import VaultKey

MASTER_KEY_FILE = "master.key"
Executor = AsyncConnection | AsyncSession


def resolve_master_key(settings: Settings, *, embedded: bool) -> bytes:
    """The master key from settings, or (embedded database only) from DATA_DIR/master.key."""
    if settings.master_key is not None:
        return parse_master_key(settings.master_key.get_secret_value())
    if not embedded:
        raise ConfigurationError(
            "PERSONAE_MASTER_KEY is not set; make one with `personae vault keygen`, keep it "
            "in your secret store, and set it for every Personae process"
        )
    path = settings.data_dir / MASTER_KEY_FILE
    if not path.exists():
        _write_private(path, encode_key(new_key()))
    return parse_master_key(path.read_text())


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(text)


@dataclass(frozen=True)
class Keyring:
    """Unwrapped data keys by version; the highest version seals new secrets."""

    keys: Mapping[int, bytes]

    @property
    def current_version(self) -> int:
        if not self.keys:
            raise ConfigurationError("the vault has no data key; run `personae db upgrade`")
        return max(self.keys)


WRAPPED_KEYS = text(
    "SELECT version, wrapped_key, nonce, master_fingerprint FROM personae_vault_keys()"
)
"""The application role reads the wrapped keys through this function only (migration
0023)."""
NEWEST_KEY = text("SELECT max(version) FROM personae_vault_keys()")


async def load_keyring(executor: Executor, master: bytes) -> Keyring:
    rows = (await executor.execute(WRAPPED_KEYS)).all()
    expected = fingerprint(master)
    keys = {}
    for row in rows:
        if row.master_fingerprint != expected:
            raise ConfigurationError(
                f"vault key v{row.version} was wrapped by another master key "
                f"(fingerprint {row.master_fingerprint}, this one is {expected}); "
                "set PERSONAE_MASTER_KEY to the key this database was set up with"
            )
        keys[row.version] = unseal(master, row.nonce, row.wrapped_key, data_key_aad(row.version))
    return Keyring(keys)


async def add_data_key(executor: Executor, master: bytes) -> int:
    """Add the next data-key version (as the owner); returns it."""
    latest = (await executor.execute(select(func.max(VaultKey.version)))).scalar_one()
    version = (latest or 0) + 1
    nonce, wrapped = seal(master, new_key(), data_key_aad(version))
    await executor.execute(
        insert(VaultKey).values(
            version=version,
            wrapped_key=wrapped,
            nonce=nonce,
            master_fingerprint=fingerprint(master),
        )
    )
    return version


async def ensure_data_key(executor: Executor, master: bytes) -> None:
    """Make the first data key if there is none; check the master key opens the others."""
    keyring = await load_keyring(executor, master)
    if not keyring.keys:
        await add_data_key(executor, master)
