"""Storing, revealing and re-sealing secrets. Values go in as text and come out only
through `reveal`; nothing here logs or returns a plaintext otherwise."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from personae.db.engine import sessionmaker
from personae.db.statements import rowcount
from personae.db.tenancy import tenant_session
from personae.identity.models import Tenant
from personae.vault.crypto import DecryptionFailed, seal, secret_aad, unseal
from personae.vault.keyring import NEWEST_KEY, Keyring, add_data_key, load_keyring
from personae.vault.models import Secret

REWRAP_BATCH = 500


@dataclass
class RewrapResult:
    rewrapped: int = 0
    unreadable: list[uuid.UUID] = field(default_factory=list)


class Vault:
    """Seals and opens secrets with the data keys; reloads them when a newer one appears."""

    def __init__(self, master: bytes) -> None:
        self._master = master
        self._keyring = Keyring({})

    async def keyring(self, session: AsyncSession, *, needs: int | None = None) -> Keyring:
        """The data keys, reloaded when `needs` (or, by default, the newest key) is unknown:
        another process may have rotated since they were loaded."""
        if needs is None:
            needs = (await session.execute(NEWEST_KEY)).scalar_one()
        if needs not in self._keyring.keys:
            self._keyring = await load_keyring(session, self._master)
        return self._keyring

    async def put(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        *,
        key_name: str,
        value: str,
        secret_type: str = "other",  # noqa: S107 - a category, not a password
        scope: str = "tenant",
        scope_id: uuid.UUID | None = None,
        created_by: uuid.UUID | None = None,
    ) -> Secret:
        """Create the secret, or replace its value when one of that place exists."""
        existing = (
            await session.execute(
                select(Secret).where(
                    Secret.tenant_id == tenant_id,
                    Secret.scope == scope,
                    Secret.scope_id.is_not_distinct_from(scope_id),
                    Secret.secret_type == secret_type,
                    Secret.key_name == key_name,
                )
            )
        ).scalar_one_or_none()
        secret = existing or Secret(
            tenant_id=tenant_id,
            scope=scope,
            scope_id=scope_id,
            secret_type=secret_type,
            key_name=key_name,
            created_by=created_by,
        )
        await self._seal_into(session, secret, value.encode())
        if existing is None:
            session.add(secret)
        await session.flush()
        return secret

    async def reveal(self, session: AsyncSession, secret: Secret) -> str:
        keyring = await self.keyring(session, needs=secret.key_version)
        plaintext = unseal(
            keyring.keys[secret.key_version], secret.nonce, secret.ciphertext, _aad(secret)
        )
        return plaintext.decode()

    async def rewrap(self, session: AsyncSession, tenant_id: uuid.UUID) -> RewrapResult:
        """Re-seal the tenant's secrets under the newest data key, in id order.

        A row is swapped only if unchanged since read (a concurrent write wins). A row that
        does not open (tampered, or moved from another place) is left as it is and named
        in the result by id."""
        keyring = await self.keyring(session)
        newest = keyring.current_version
        result = RewrapResult()
        after = uuid.UUID(int=0)
        while True:
            batch: Sequence[Secret] = (
                (
                    await session.execute(
                        select(Secret)
                        .where(
                            Secret.tenant_id == tenant_id,
                            Secret.key_version < newest,
                            Secret.id > after,
                        )
                        .order_by(Secret.id)
                        .limit(REWRAP_BATCH)
                    )
                )
                .scalars()
                .all()
            )
            if not batch:
                return result
            for secret in batch:
                after = secret.id
                try:
                    plaintext = unseal(
                        keyring.keys[secret.key_version],
                        secret.nonce,
                        secret.ciphertext,
                        _aad(secret),
                    )
                except (DecryptionFailed, KeyError):
                    result.unreadable.append(secret.id)
                    continue
                nonce, ciphertext = seal(keyring.keys[newest], plaintext, _aad(secret))
                swapped = await session.execute(
                    update(Secret)
                    .where(
                        Secret.tenant_id == secret.tenant_id,
                        Secret.id == secret.id,
                        Secret.key_version == secret.key_version,
                        Secret.nonce == secret.nonce,
                    )
                    .values(nonce=nonce, ciphertext=ciphertext, key_version=newest)
                    .execution_options(synchronize_session=False)
                )
                result.rewrapped += rowcount(swapped)
            session.expunge_all()

    async def _seal_into(self, session: AsyncSession, secret: Secret, plaintext: bytes) -> None:
        keyring = await self.keyring(session)
        version = keyring.current_version
        secret.nonce, secret.ciphertext = seal(keyring.keys[version], plaintext, _aad(secret))
        secret.key_version = version


def _aad(secret: Secret) -> bytes:
    return secret_aad(
        secret.tenant_id, secret.scope, secret.scope_id, secret.secret_type, secret.key_name
    )


@dataclass
class RotationReport:
    version: int
    tenants: int = 0
    rewrapped: int = 0
    unreadable: list[uuid.UUID] = field(default_factory=list)


async def rotate(owner: AsyncEngine, master: bytes) -> RotationReport:
    """Add a data key, then re-seal every tenant's secrets under it, one tenant per
    transaction. Reads keep working throughout: each row names the key that sealed it."""
    async with owner.begin() as conn:
        report = RotationReport(version=await add_data_key(conn, master))
    vault = Vault(master)
    sessions = sessionmaker(owner)
    async with sessions() as session:
        tenant_ids = (await session.execute(select(Tenant.id).order_by(Tenant.id))).scalars().all()
    for tenant_id in tenant_ids:
        async with tenant_session(sessions, tenant_id) as session:
            result = await vault.rewrap(session, tenant_id)
        report.tenants += 1
        report.rewrapped += result.rewrapped
        report.unreadable += result.unreadable
    return report
