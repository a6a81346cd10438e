"""Settings resolved by precedence: system < tenant < persona < user (the caller).

A setting stored as secret keeps its value in the vault; resolving shows only that it is
set (and its secret id), never the value."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from pydantic import StringConstraints, TypeAdapter
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from personae.errors import Forbidden, NotFound, ValidationFailed
from personae.kernel.audit.service import record
from personae.kernel.principal import Principal
from personae.settings_store.models import (
    SETTING_NAMESPACES,
    SETTING_SCOPES,
    Setting,
    SystemSetting,
)
from personae.settings_store.schemas import ResolvedSetting, SettingIn
from personae.vault.service import Vault

PRECEDENCE = ("system", "tenant", "persona", "user")
MAX_VALUE_BYTES = 65_536
HOST = Annotated[
    str, StringConstraints(pattern=r"^\.?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$", max_length=253)
]
SHAPES: dict[tuple[str, str], TypeAdapter[Any]] = {
    ("general", "tool_http_allowed_hosts"): TypeAdapter(list[HOST]),
}
"""Settings the product reads itself, by (namespace, key): their values must fit."""


def _scope_id(principal: Principal, scope: str, given: uuid.UUID | None) -> uuid.UUID | None:
    if scope not in SETTING_SCOPES:
        raise NotFound(f"no settings scope {scope!r}")
    if scope == "tenant":
        if given is not None:
            raise ValidationFailed("tenant settings take no scope_id", field="scope_id")
        return None
    if scope == "user":
        if given not in (None, principal.user_id) or principal.user_id is None:
            raise Forbidden("user settings are your own")
        return principal.user_id
    if given is None:
        raise ValidationFailed("persona settings need the persona's id", field="scope_id")
    return given


def _require_write(principal: Principal, scope: str) -> None:
    if scope != "user":  # your own preferences need no grant
        principal.require("settings:write")


async def put_setting(
    session: AsyncSession, vault: Vault, principal: Principal, scope: str, key: str, body: SettingIn
) -> Setting:
    scope_id = _scope_id(principal, scope, body.scope_id)
    _require_write(principal, scope)
    if body.namespace not in SETTING_NAMESPACES:
        raise ValidationFailed(f"one of {', '.join(SETTING_NAMESPACES)}", field="namespace")
    if len(json.dumps(body.value)) > MAX_VALUE_BYTES:
        raise ValidationFailed(f"at most {MAX_VALUE_BYTES} bytes of JSON", field="value")
    if body.secret and not isinstance(body.value, str):
        raise ValidationFailed("a secret setting's value is a string", field="value")
    _check_shape(body.namespace, key, body.value)
    setting = (
        await session.execute(
            select(Setting).where(
                Setting.scope == scope,
                Setting.scope_id.is_not_distinct_from(scope_id),
                Setting.namespace == body.namespace,
                Setting.key == key,
            )
        )
    ).scalar_one_or_none()
    if setting is None:
        setting = Setting(
            tenant_id=principal.tenant_id,
            scope=scope,
            scope_id=scope_id,
            namespace=body.namespace,
            key=key,
        )
        session.add(setting)
    if body.secret:
        secret = await vault.put(
            session,
            principal.tenant_id,
            key_name=f"setting:{body.namespace}:{key}",
            value=body.value,
            secret_type="agent_setting",  # noqa: S106 - a category
            scope="user" if scope == "user" else ("persona" if scope == "persona" else "tenant"),
            scope_id=scope_id,
            created_by=principal.user_id,
        )
        setting.storage_type, setting.secret_id, setting.value = "vault", secret.id, None
    else:
        setting.storage_type, setting.secret_id, setting.value = "plain", None, {"v": body.value}
    await session.flush()
    await record(
        session,
        principal,
        "put",
        "setting",
        setting.id,
        data={"scope": scope, "namespace": body.namespace, "key": key, "secret": body.secret},
    )
    return setting


def _check_shape(namespace: str, key: str, value: Any) -> None:
    shape = SHAPES.get((namespace, key))
    if shape is None:
        return
    try:
        shape.validate_python(value, strict=True)
    except PydanticValidationError as error:
        first = error.errors()[0]
        where = ".".join(["value", *(str(part) for part in first["loc"])])
        raise ValidationFailed(first["msg"], field=where) from None


async def tenant_value(session: AsyncSession, namespace: str, key: str) -> Any:
    """The caller's tenant's own (plain) value of a setting, or None when it has none."""
    found = await session.execute(
        select(Setting.value).where(
            Setting.scope == "tenant",
            Setting.namespace == namespace,
            Setting.key == key,
            Setting.storage_type == "plain",
        )
    )
    return _unwrap(found.scalar_one_or_none())


async def delete_setting(
    session: AsyncSession,
    principal: Principal,
    scope: str,
    key: str,
    namespace: str,
    scope_id: uuid.UUID | None,
) -> None:
    resolved_id = _scope_id(principal, scope, scope_id)
    _require_write(principal, scope)
    result = await session.execute(
        delete(Setting)
        .where(
            Setting.scope == scope,
            Setting.scope_id.is_not_distinct_from(resolved_id),
            Setting.namespace == namespace,
            Setting.key == key,
        )
        .returning(Setting.id)
    )
    deleted = result.scalar_one_or_none()
    if deleted is None:
        raise NotFound("no such setting")
    await record(
        session,
        principal,
        "delete",
        "setting",
        deleted,
        data={"scope": scope, "namespace": namespace, "key": key},
    )


async def resolve(
    session: AsyncSession, principal: Principal, namespace: str, persona_id: uuid.UUID | None
) -> list[ResolvedSetting]:
    """The effective settings of a namespace for the caller (and a persona, when given)."""
    principal.require("settings:read")
    resolved: dict[str, ResolvedSetting] = {}
    prefix = f"{namespace}:"
    system = await session.execute(
        select(SystemSetting.key, SystemSetting.value).where(SystemSetting.key.startswith(prefix))
    )
    for full_key, value in system.all():
        key = full_key.removeprefix(prefix)
        resolved[key] = ResolvedSetting(
            key=key, namespace=namespace, scope="system", value=_unwrap(value), secret=False
        )
    scopes = [Setting.scope == "tenant"]
    if persona_id is not None:
        scopes.append((Setting.scope == "persona") & (Setting.scope_id == persona_id))
    if principal.user_id is not None:
        scopes.append((Setting.scope == "user") & (Setting.scope_id == principal.user_id))
    rows = (
        (await session.execute(select(Setting).where(Setting.namespace == namespace, or_(*scopes))))
        .scalars()
        .all()
    )
    for row in sorted(rows, key=lambda r: PRECEDENCE.index(r.scope)):
        secret = row.storage_type == "vault"
        resolved[row.key] = ResolvedSetting(
            key=row.key,
            namespace=namespace,
            scope=row.scope,
            secret=secret,
            value=None if secret else _unwrap(row.value),
            secret_id=row.secret_id,
        )
    return [resolved[key] for key in sorted(resolved)]


def _unwrap(value: dict[str, Any] | None) -> Any:
    return None if value is None else value.get("v", value)
