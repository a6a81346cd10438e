"""Secrets as tenant resources: checked, audited, values write-only."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from personae.errors import Forbidden, NotFound, ValidationFailed
from personae.kernel.audit.service import record
from personae.kernel.principal import Principal
from personae.vault.models import SECRET_SCOPES, SECRET_TYPES, Secret, owner_of
from personae.vault.schemas import MAX_SECRET_BYTES, SecretWrite
from personae.vault.service import Vault


async def write_secret(
    session: AsyncSession, vault: Vault, principal: Principal, body: SecretWrite
) -> Secret:
    principal.require("secrets:write")
    _not_owned(body.key_name)
    if body.secret_type not in SECRET_TYPES:
        raise ValidationFailed(f"one of {', '.join(SECRET_TYPES)}", field="secret_type")
    if body.scope not in SECRET_SCOPES:
        raise ValidationFailed(f"one of {', '.join(SECRET_SCOPES)}", field="scope")
    if (body.scope == "tenant") != (body.scope_id is None):
        raise ValidationFailed("scope_id is set exactly when scope is not tenant", field="scope_id")
    value = body.value.get_secret_value()
    if len(value.encode()) > MAX_SECRET_BYTES:
        raise ValidationFailed(f"at most {MAX_SECRET_BYTES} bytes", field="value")
    secret = await vault.put(
        session,
        principal.tenant_id,
        key_name=body.key_name,
        value=value,
        secret_type=body.secret_type,
        scope=body.scope,
        scope_id=body.scope_id,
        created_by=principal.user_id,
    )
    await record(
        session,
        principal,
        "write",
        "secret",
        secret.id,
        data={
            "key_name": secret.key_name,
            "scope": secret.scope,
            "secret_type": secret.secret_type,
        },
    )
    return secret


async def list_secrets(session: AsyncSession, principal: Principal) -> list[Secret]:
    principal.require("secrets:read")
    return list((await session.execute(select(Secret).order_by(Secret.key_name))).scalars())


async def reveal_secret(
    session: AsyncSession, vault: Vault, principal: Principal, secret_id: uuid.UUID
) -> tuple[Secret, str]:
    principal.require("secrets:reveal")
    secret = await _get(session, secret_id)
    value = await vault.reveal(session, secret)
    secret.last_revealed_at = datetime.now(UTC)
    await record(
        session,
        principal,
        "reveal",
        "secret",
        secret.id,
        category="access",
        data={"key_name": secret.key_name},
    )
    return secret, value


async def delete_secret(session: AsyncSession, principal: Principal, secret_id: uuid.UUID) -> None:
    principal.require("secrets:delete")
    secret = await _get(session, secret_id)
    _not_owned(secret.key_name)
    await session.execute(delete(Secret).where(Secret.id == secret.id))
    await record(
        session, principal, "delete", "secret", secret_id, data={"key_name": secret.key_name}
    )


def _not_owned(key_name: str) -> None:
    owner = owner_of(key_name)
    if owner is not None:
        raise Forbidden(f"this secret is {owner}: change it through that resource")


async def _get(session: AsyncSession, secret_id: uuid.UUID) -> Secret:
    secret = (
        await session.execute(select(Secret).where(Secret.id == secret_id))
    ).scalar_one_or_none()
    if secret is None:
        raise NotFound("no such secret")
    return secret
