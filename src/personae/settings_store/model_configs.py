"""Model configs: the models a tenant can call, with their limits; API keys in the vault."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from personae.errors import Conflict, NotFound, ProviderError, ValidationFailed
from personae.kernel.audit.service import record
from personae.kernel.principal import Principal
from personae.plugins import unknown
from personae.providers.chat import ChatModel, Endpoint, Prices
from personae.providers.endpoints import check_endpoint, endpoint_refusal
from personae.providers.plugins import chat_models
from personae.settings_store.models import MODEL_TYPES, ModelConfig
from personae.settings_store.schemas import ModelConfigIn, ModelConfigPatch
from personae.vault.models import Secret
from personae.vault.service import Vault

CHAT_TYPES = ("chat", "utility", "vision")
"""Model types whose configs open chat models (their provider must be installed)."""


async def create_model_config(
    session: AsyncSession,
    vault: Vault,
    principal: Principal,
    body: ModelConfigIn,
    endpoint_hosts: Sequence[str],
) -> ModelConfig:
    principal.require("model_configs:create")
    _check_base_url(body.base_url, endpoint_hosts)
    if body.model_type not in MODEL_TYPES:
        raise ValidationFailed(f"one of {', '.join(MODEL_TYPES)}", field="model_type")
    if body.model_type in CHAT_TYPES and body.provider not in chat_models():
        raise ValidationFailed(
            unknown("chat provider", body.provider, chat_models())
            + " (`openai` takes any OpenAI-compatible base_url)",
            field="provider",
        )
    taken = (
        await session.execute(
            select(func.count()).where(
                ModelConfig.name == body.name, ModelConfig.deleted_at.is_(None)
            )
        )
    ).scalar_one()
    if taken:
        raise Conflict(f"a model config named {body.name!r} exists")
    fields = body.model_dump(exclude={"api_key"})
    config = ModelConfig(tenant_id=principal.tenant_id, **fields)
    session.add(config)
    await session.flush()
    if body.api_key is not None:
        await _store_key(session, vault, principal, config, body.api_key.get_secret_value())
    await record(
        session,
        principal,
        "create",
        "model_config",
        config.id,
        data={"name": config.name, "provider": config.provider},
    )
    return config


async def list_model_configs(session: AsyncSession, principal: Principal) -> list[ModelConfig]:
    principal.require("model_configs:read")
    rows = await session.execute(
        select(ModelConfig).where(ModelConfig.deleted_at.is_(None)).order_by(ModelConfig.name)
    )
    return list(rows.scalars())


async def get_model_config(
    session: AsyncSession, principal: Principal, config_id: uuid.UUID
) -> ModelConfig:
    principal.require("model_configs:read")
    config = (
        await session.execute(
            select(ModelConfig).where(ModelConfig.id == config_id, ModelConfig.deleted_at.is_(None))
        )
    ).scalar_one_or_none()
    if config is None:
        raise NotFound("no such model config")
    return config


async def update_model_config(
    session: AsyncSession,
    vault: Vault,
    principal: Principal,
    config_id: uuid.UUID,
    body: ModelConfigPatch,
    endpoint_hosts: Sequence[str],
) -> ModelConfig:
    principal.require("model_configs:update")
    _check_base_url(body.base_url, endpoint_hosts)
    config = await get_model_config(session, principal, config_id)
    changes = body.model_dump(exclude_unset=True, exclude={"api_key"})
    for name, value in changes.items():
        setattr(config, name, value)
    if body.api_key is not None:
        await _store_key(session, vault, principal, config, body.api_key.get_secret_value())
    config.updated_at = datetime.now(UTC)
    await record(
        session,
        principal,
        "update",
        "model_config",
        config.id,
        data={"fields": sorted(changes) + (["api_key"] if body.api_key else [])},
    )
    return config


async def delete_model_config(
    session: AsyncSession, principal: Principal, config_id: uuid.UUID
) -> None:
    principal.require("model_configs:delete")
    config = await get_model_config(session, principal, config_id)
    config.deleted_at = datetime.now(UTC)
    if config.api_key_secret_id is not None:
        key_id, config.api_key_secret_id = config.api_key_secret_id, None
        await session.flush()
        await session.execute(delete(Secret).where(Secret.id == key_id))
    await record(
        session, principal, "delete", "model_config", config.id, data={"name": config.name}
    )


def _check_base_url(base_url: str | None, endpoint_hosts: Sequence[str]) -> None:
    refusal = None if base_url is None else endpoint_refusal(base_url, endpoint_hosts)
    if refusal is not None:
        raise ValidationFailed(
            f"{refusal} (PERSONAE_MODEL_ENDPOINT_HOSTS lists what may be called)",
            field="base_url",
        )


async def _store_key(
    session: AsyncSession, vault: Vault, principal: Principal, config: ModelConfig, key: str
) -> None:
    secret = await vault.put(
        session,
        principal.tenant_id,
        key_name=f"model_config:{config.id}",
        value=key,
        secret_type="llm_provider_key",  # noqa: S106 - a category, not a password
        created_by=principal.user_id,
    )
    config.api_key_secret_id = secret.id


async def background_model(
    session: AsyncSession, vault: Vault, endpoint_hosts: Sequence[str]
) -> ChatModel | None:
    """The session's tenant's model for background work (curated summaries): its first
    live model config of type `utility` (by name), opened with its key from the vault;
    None when it has none."""
    config = (
        await session.execute(
            select(ModelConfig)
            .where(ModelConfig.model_type == "utility", ModelConfig.deleted_at.is_(None))
            .order_by(ModelConfig.name)
            .limit(1)
        )
    ).scalar_one_or_none()
    if config is None:
        return None
    return await open_chat(session, vault, config, endpoint_hosts=endpoint_hosts)


async def open_chat(
    session: AsyncSession,
    vault: Vault,
    config: ModelConfig,
    *,
    endpoint_hosts: Sequence[str],
    timeout_s: float = 60.0,
    max_retries: int = 2,
) -> ChatModel:
    """A client of the config's model through its provider's plugin, with its key from the
    vault. A `base_url` the installation does not allow (`endpoint_hosts`) and a provider
    no plugin registers are refused (ProviderError)."""
    opener = chat_models().get(config.provider)
    if opener is None:
        raise ProviderError(unknown("chat provider", config.provider, chat_models()))
    if config.base_url is not None:
        await check_endpoint(config.base_url, endpoint_hosts)
    key = None
    if config.api_key_secret_id is not None:
        secret = await session.get(Secret, (config.tenant_id, config.api_key_secret_id))
        key = None if secret is None else await vault.reveal(session, secret)
    endpoint = Endpoint(
        model=config.model_name,
        base_url=config.base_url,
        api_key=key,
        options=config.kwargs,
        prices=prices(config),
        timeout_s=timeout_s,
        max_retries=max_retries,
    )
    return opener(endpoint)


def prices(config: ModelConfig) -> Prices | None:
    """The config's prices, when both are set."""
    if config.input_cost_per_mtok is None or config.output_cost_per_mtok is None:
        return None
    return Prices(float(config.input_cost_per_mtok), float(config.output_cost_per_mtok))
