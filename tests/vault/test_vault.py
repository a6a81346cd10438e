"""The vault against the real database, as the application role."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from personae.db.engine import sessionmaker
from personae.db.tenancy import tenant_session
from personae.errors import ConfigurationError
from personae.vault.crypto import DecryptionFailed, new_key
from personae.vault.keyring import add_data_key, ensure_data_key, load_keyring
from personae.vault.models import Secret
from personae.vault.service import Vault
from tests.rows import RowFactory

PLAINTEXT = "sk-test-7f3a9c-very-secret"


@dataclass
class Setup:
    master: bytes
    a: uuid.UUID
    b: uuid.UUID
    sessions: async_sessionmaker[AsyncSession]
    owner: AsyncEngine


@pytest.fixture(scope="module")
async def setup(owner_engine: AsyncEngine, app_engine: AsyncEngine) -> Setup:
    master = new_key()
    factory = RowFactory()
    async with owner_engine.begin() as conn:
        await ensure_data_key(conn, master)
        a = await factory.tenant(conn, "vault-a")
        b = await factory.tenant(conn, "vault-b")
    return Setup(master, a, b, sessionmaker(app_engine), owner_engine)


async def test_round_trip_and_no_plaintext_at_rest(setup: Setup) -> None:
    vault = Vault(setup.master)
    async with tenant_session(setup.sessions, setup.a) as session:
        secret = await vault.put(session, setup.a, key_name="openai", value=PLAINTEXT)
        assert await vault.reveal(session, secret) == PLAINTEXT
        raw = (
            await session.execute(
                text("SELECT ciphertext, nonce FROM secrets WHERE id = :id"), {"id": secret.id}
            )
        ).one()
    assert PLAINTEXT.encode() not in raw.ciphertext + raw.nonce
    assert PLAINTEXT not in repr(secret)


async def test_put_twice_replaces_the_value(setup: Setup) -> None:
    vault = Vault(setup.master)
    async with tenant_session(setup.sessions, setup.a) as session:
        first = await vault.put(session, setup.a, key_name="smtp", value="one")
        second = await vault.put(session, setup.a, key_name="smtp", value="two")
        assert first.id == second.id
        assert await vault.reveal(session, second) == "two"


async def test_ciphertext_copied_to_another_place_does_not_open(setup: Setup) -> None:
    vault = Vault(setup.master)
    async with tenant_session(setup.sessions, setup.a) as session:
        source = await vault.put(session, setup.a, key_name="copied", value=PLAINTEXT)
        other_name = await vault.put(session, setup.a, key_name="decoy", value="x")
        stolen = (source.nonce, source.ciphertext, source.key_version)
        other_name.nonce, other_name.ciphertext, other_name.key_version = stolen
        with pytest.raises(DecryptionFailed):
            await vault.reveal(session, other_name)
        await session.execute(delete(Secret).where(Secret.key_name == "decoy"))
    async with tenant_session(setup.sessions, setup.b) as session:
        target = await vault.put(session, setup.b, key_name="copied", value="x")
        target.nonce, target.ciphertext, target.key_version = stolen
        await session.flush()
        with pytest.raises(DecryptionFailed):
            await vault.reveal(session, target)
        await session.execute(delete(Secret).where(Secret.key_name.in_(["copied", "decoy"])))


async def test_rotation_rewraps_every_secret_and_old_ones_stay_readable(setup: Setup) -> None:
    vault = Vault(setup.master)
    values = {f"rotating-{i}": f"value-{i}" for i in range(5)}
    for tenant in (setup.a, setup.b):
        async with tenant_session(setup.sessions, tenant) as session:
            for name, value in values.items():
                await vault.put(session, tenant, key_name=name, value=value)

    async with setup.owner.begin() as conn:
        new_version = await add_data_key(conn, setup.master)

    reader = Vault(setup.master)  # another process: learns the new key when it meets it
    async with tenant_session(setup.sessions, setup.a) as session:
        old = (
            await session.execute(select(Secret).where(Secret.key_name == "rotating-0"))
        ).scalar_one()
        assert old.key_version < new_version
        assert await reader.reveal(session, old) == "value-0"
        fresh = await vault.put(session, setup.a, key_name="after-rotation", value="new")
        assert fresh.key_version == new_version

    for tenant in (setup.a, setup.b):
        async with tenant_session(setup.sessions, tenant) as session:
            result = await vault.rewrap(session, tenant)
            assert result.rewrapped >= len(values) and result.unreadable == []
    for tenant in (setup.a, setup.b):
        async with tenant_session(setup.sessions, tenant) as session:
            secrets = (await session.execute(select(Secret))).scalars().all()
            assert {s.key_version for s in secrets} == {new_version}
            for secret in secrets:
                if secret.key_name in values:
                    assert await reader.reveal(session, secret) == values[secret.key_name]


async def test_app_role_cannot_write_vault_keys(setup: Setup) -> None:
    async with setup.sessions() as session, session.begin():
        with pytest.raises(Exception, match="permission denied"):
            await session.execute(text("DELETE FROM vault_keys"))


async def test_a_different_master_key_is_refused_with_the_fix(setup: Setup) -> None:
    async with setup.sessions() as session:
        with pytest.raises(ConfigurationError, match="another master key"):
            await load_keyring(session, new_key())


async def test_rotation_reports_unreadable_rows_and_finishes(setup: Setup) -> None:
    tenant = setup.b
    vault = Vault(setup.master)
    async with tenant_session(setup.sessions, tenant) as session:
        good = await vault.put(session, tenant, key_name="good", value="fine")
        bad = await vault.put(session, tenant, key_name="tampered", value="lost")
        bad.ciphertext = bytes([bad.ciphertext[0] ^ 1]) + bad.ciphertext[1:]
    async with setup.owner.begin() as conn:
        newest = await add_data_key(conn, setup.master)
    async with tenant_session(setup.sessions, tenant) as session:
        result = await vault.rewrap(session, tenant)
    assert result.unreadable == [bad.id]
    async with tenant_session(setup.sessions, tenant) as session:
        good = (await session.execute(select(Secret).where(Secret.id == good.id))).scalar_one()
        assert good.key_version == newest
        assert await vault.reveal(session, good) == "fine"
        await session.execute(delete(Secret).where(Secret.id == bad.id))
