"""Tools: the tenant's own (CRUD), the built-ins, and running one."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel

from personae.api.deps import RequestContext, authorized
from personae.api.resource_routes import mount
from personae.tools import registry, schemas
from personae.tools.sandbox import Limits

router = APIRouter(prefix="/v1", tags=["tools"])


@router.get("/tools/builtins", response_model=list[registry.BuiltinTool])
async def builtin_tools(
    context: Annotated[RequestContext, authorized("tools:read")],
) -> list[registry.BuiltinTool]:
    """The tools every tenant has (from Personae and its plugins), with their schemas."""
    return registry.builtins()


mount(
    router,
    registry.TOOLS,
    path="/tools",
    id_param="tool_id",
    out=schemas.ToolOut,
    create=schemas.ToolCreate,
    update=schemas.ToolUpdate,
)


@router.post("/tools/{name}/execute", response_model=schemas.ExecutionOut)
async def execute(
    name: str,
    body: schemas.ExecuteIn,
    request: Request,
    context: Annotated[RequestContext, authorized("tools:execute")],
) -> BaseModel:
    """Run a tool with `arguments` (checked against its schema: 422 naming the one at
    fault). The answer is the recorded execution: `succeeded` with its result, or
    `failed` / `denied` / `timed_out` with the reason."""
    state = request.app.state
    execution = await registry.execute(
        context.session,
        context.principal,
        name,
        body.arguments,
        services={"embedders": state.embedders, "settings": state.settings},
        timeout_s=state.settings.tool_builtin_timeout_s,
        limits=Limits.configured(state.settings),
        session_id=body.session_id,
        trace_id=body.trace_id,
    )
    shown = schemas.ExecutionOut.model_validate(execution)
    await context.commit()
    return shown


@router.put("/tools/{tool_id}/dependencies", status_code=204)
async def set_dependencies(
    tool_id: uuid.UUID,
    body: schemas.DependenciesIn,
    context: Annotated[RequestContext, authorized("tools:update")],
) -> None:
    """Replace what the tool depends on (requires, recommends, optional). A set that would
    close a cycle is refused, naming the tools around it."""
    wanted = [registry.Dependency(d.tool_id, d.kind) for d in body.dependencies]
    await registry.set_dependencies(context.session, context.principal, tool_id, wanted)
    await context.commit()


@router.get("/tools/{tool_id}/plan", response_model=list[registry.Planned])
async def execution_plan(
    tool_id: uuid.UUID, context: Annotated[RequestContext, authorized("tools:read")]
) -> list[registry.Planned]:
    """What the tool requires, transitively, in the order to run (or enable) them; the tool
    itself last. `enabled: false` marks what must be enabled first."""
    return await registry.execution_plan(context.session, context.principal, tool_id)
