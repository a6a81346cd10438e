"""Model configs: create, list, read, update, delete; API keys write-only."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Response

from personae.api.deps import RequestContext, authorized
from personae.api.services import Shared
from personae.settings_store import model_configs as service
from personae.settings_store.schemas import ModelConfigIn, ModelConfigOut, ModelConfigPatch

router = APIRouter(prefix="/v1/model-configs", tags=["model configs"])


@router.post("", status_code=201, summary="Add a model config")
async def create(
    body: ModelConfigIn,
    shared: Shared,
    context: Annotated[RequestContext, authorized("model_configs:create")],
) -> ModelConfigOut:
    config = await service.create_model_config(
        context.session,
        shared.vault,
        context.principal,
        body,
        shared.settings.model_endpoint_hosts,
    )
    await context.session.refresh(config)
    out = ModelConfigOut.model_validate(config)
    await context.commit()
    return out


@router.get("", summary="List model configs")
async def list_configs(
    context: Annotated[RequestContext, authorized("model_configs:read")],
) -> list[ModelConfigOut]:
    rows = await service.list_model_configs(context.session, context.principal)
    return [ModelConfigOut.model_validate(row) for row in rows]


@router.get("/{config_id}", summary="One model config")
async def get(
    config_id: uuid.UUID, context: Annotated[RequestContext, authorized("model_configs:read")]
) -> ModelConfigOut:
    config = await service.get_model_config(context.session, context.principal, config_id)
    return ModelConfigOut.model_validate(config)


@router.patch("/{config_id}", summary="Change a model config")
async def update(
    config_id: uuid.UUID,
    body: ModelConfigPatch,
    shared: Shared,
    context: Annotated[RequestContext, authorized("model_configs:update")],
) -> ModelConfigOut:
    config = await service.update_model_config(
        context.session,
        shared.vault,
        context.principal,
        config_id,
        body,
        shared.settings.model_endpoint_hosts,
    )
    await context.session.flush()
    await context.session.refresh(config)
    out = ModelConfigOut.model_validate(config)
    await context.commit()
    return out


@router.delete("/{config_id}", status_code=204, summary="Delete a model config and its key")
async def remove(
    config_id: uuid.UUID, context: Annotated[RequestContext, authorized("model_configs:delete")]
) -> Response:
    await service.delete_model_config(context.session, context.principal, config_id)
    await context.commit()
    return Response(status_code=204)
