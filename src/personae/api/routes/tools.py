"""Tools: the tenant's own (CRUD) and the built-ins, finding and running them, who may use
them (persona grants, agent activations), approvals, the dead letters, capsules and their
prompt templates."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import BaseModel

from personae.agents.service import AGENTS
from personae.api.deps import RequestContext, authorized
from personae.api.resource_routes import Parent, list_of, mount
from personae.api.services import Shared
from personae.errors import ValidationFailed
from personae.personas.service import PERSONAS
from personae.tools import capsules, discovery, registry, schemas
from personae.tools.capsules import Manifest
from personae.tools.execution import Call
from personae.tools.permissions import PERSONA_TOOLS, TOOL_ACTIVATIONS
from personae.tools.records import DEAD_LETTERS, EXECUTIONS
from personae.tools.templates import PROMPT_TEMPLATES, render

router = APIRouter(prefix="/v1", tags=["tools"])


@router.get("/tools/builtins", response_model=list[registry.BuiltinTool])
async def builtin_tools(
    context: Annotated[RequestContext, authorized("tools:read")],
) -> list[registry.BuiltinTool]:
    """The tools every tenant has (from Personae and its plugins), with their schemas."""
    return registry.builtins()


@router.post("/tools/search", response_model=list[schemas.FoundOut])
async def search_tools(
    shared: Shared,
    body: schemas.SearchIn,
    context: Annotated[RequestContext, authorized("tools:read")],
) -> list[schemas.FoundOut]:
    """The `k` enabled tools that best fit a task, by their descriptions' meaning, among
    those the persona / agent may use: their schemas are ready for a prompt's `tools`."""
    found = await discovery.search(
        context.session,
        context.principal,
        shared.embedders,
        body.task,
        k=body.k,
        persona_id=body.persona_id,
        agent_id=body.agent_id,
        ef_search=shared.settings.turn_search_ef,
    )
    await context.commit()  # descriptions embedded on the way are kept
    return [
        schemas.FoundOut(
            id=f.id, name=f.name, description=f.description, score=f.score, function=f.function()
        )
        for f in found
    ]


mount(
    router,
    registry.TOOLS,
    path="/tools",
    id_param="tool_id",
    out=schemas.ToolOut,
    create=schemas.ToolCreate,
    update=schemas.ToolUpdate,
)
mount(
    router,
    PERSONA_TOOLS,
    path="/tools",
    id_param="grant_id",
    out=schemas.PersonaToolOut,
    create=schemas.PersonaToolCreate,
    update=schemas.PersonaToolUpdate,
    parent=Parent(PERSONAS, "/personas", "persona_id"),
    tag="tools",
)
mount(
    router,
    TOOL_ACTIVATIONS,
    path="/tool-activations",
    id_param="activation_id",
    out=schemas.ActivationOut,
    create=schemas.ActivationCreate,
    update=schemas.ActivationUpdate,
    parent=Parent(AGENTS, "/agents", "agent_id"),
    tag="tools",
)
mount(
    router,
    EXECUTIONS,
    path="/tool-executions",
    id_param="execution_id",
    out=schemas.ExecutionOut,
    filters=schemas.ExecutionFilters,
    deletable=False,
    tag="tools",
)
mount(
    router,
    DEAD_LETTERS,
    path="/dead-letters",
    id_param="letter_id",
    out=schemas.DeadLetterOut,
    filters=schemas.DeadLetterFilters,
    tag="tools",
)


@router.post("/tools/{name}/execute", response_model=schemas.ExecutionOut)
async def execute(
    name: str,
    body: schemas.ExecuteIn,
    shared: Shared,
    response: Response,
    context: Annotated[RequestContext, authorized("tools:execute")],
) -> BaseModel:
    """Run a tool with `arguments` (checked against its schema: 422 naming the one at
    fault). The answer is the recorded execution: `succeeded` with its result, `failed` /
    `timed_out` with the reason, `denied` (the persona or agent may not use it), or
    `awaiting_approval` (202) until someone approves or denies it."""
    call = Call(
        persona_id=body.persona_id,
        agent_id=body.agent_id,
        session_id=body.session_id,
        trace_id=body.trace_id,
        queue_if_denied=body.queue_if_denied,
    )
    execution = await shared.tools.execute(
        context.session, context.principal, name, body.arguments, call
    )
    if execution.status == "awaiting_approval":
        response.status_code = 202
    shown = schemas.ExecutionOut.model_validate(execution)
    await context.commit()
    return shown


@router.post("/tool-executions/{execution_id}/approve", response_model=schemas.ExecutionOut)
async def approve(
    execution_id: uuid.UUID,
    shared: Shared,
    context: Annotated[RequestContext, authorized("tools:approve")],
    body: schemas.SecretsIn | None = None,
) -> BaseModel:
    """Approve a call awaiting approval: it runs now (its secret arguments given again)."""
    execution = await shared.tools.decide(
        context.session,
        context.principal,
        execution_id,
        approve=True,
        secrets=body.arguments if body else None,
    )
    shown = schemas.ExecutionOut.model_validate(execution)
    await context.commit()
    return shown


@router.post("/tool-executions/{execution_id}/deny", response_model=schemas.ExecutionOut)
async def deny(
    execution_id: uuid.UUID,
    shared: Shared,
    context: Annotated[RequestContext, authorized("tools:approve")],
) -> BaseModel:
    """Deny a call awaiting approval: it never runs."""
    execution = await shared.tools.decide(
        context.session, context.principal, execution_id, approve=False
    )
    shown = schemas.ExecutionOut.model_validate(execution)
    await context.commit()
    return shown


@router.post("/dead-letters/{letter_id}/replay", response_model=schemas.ReplayOut)
async def replay(
    letter_id: uuid.UUID,
    shared: Shared,
    context: Annotated[RequestContext, authorized("tools:approve")],
    body: schemas.SecretsIn | None = None,
) -> BaseModel:
    """Run a dead letter's call again (after fixing the tool): success resolves the letter;
    failure keeps it, with the new error."""
    letter, execution = await shared.tools.replay(
        context.session, context.principal, letter_id, body.arguments if body else None
    )
    shown = schemas.ReplayOut(
        dead_letter=schemas.DeadLetterOut.model_validate(letter),
        execution=schemas.ExecutionOut.model_validate(execution),
    )
    await context.commit()
    return shown


@router.get("/capsules/offered", response_model=list[Manifest])
async def offered_capsules(
    context: Annotated[RequestContext, authorized("tools:read")],
) -> list[Manifest]:
    """The capsules the plugins installed with Personae offer, to install by name."""
    return list(capsules.offered().values())


@router.post("/capsules/install", response_model=list_of(schemas.CapsuleOut))
async def install_capsules(
    body: schemas.InstallIn, context: Annotated[RequestContext, authorized("tools:create")]
) -> list[BaseModel]:
    """Install (or upgrade to) the given manifests and offered capsules, together: refused
    with 409 when a dependency is missing, a version constraint fails, the capsules would
    depend on each other in a circle, or an upgrade would break an installed capsule. The
    answer lists them in the order installed (dependencies first)."""
    available = capsules.offered()
    chosen = list(body.manifests)
    for index, name in enumerate(body.offered):
        if name not in available:
            raise ValidationFailed("no plugin offers this capsule", field=f"offered.{index}")
        chosen.append(available[name])
    rows = await capsules.install(context.session, context.principal, chosen)
    shown = [schemas.CapsuleOut.model_validate(row) for row in rows]
    await context.commit()
    return shown


mount(
    router,
    capsules.CAPSULES,
    path="/capsules",
    id_param="capsule_id",
    out=schemas.CapsuleOut,
    deletable=False,
    tag="tools",
)


@router.post("/capsules/{capsule_id}/uninstall", response_model=schemas.CapsuleOut)
async def uninstall_capsule(
    capsule_id: uuid.UUID, context: Annotated[RequestContext, authorized("tools:delete")]
) -> BaseModel:
    """Uninstall a capsule (its tools and templates go); refused with 409 while another
    installed capsule depends on it."""
    row = await capsules.uninstall(context.session, context.principal, capsule_id)
    shown = schemas.CapsuleOut.model_validate(row)
    await context.commit()
    return shown


mount(
    router,
    PROMPT_TEMPLATES,
    path="/prompt-templates",
    id_param="template_id",
    out=schemas.TemplateOut,
    create=schemas.TemplateCreate,
    update=schemas.TemplateUpdate,
    tag="tools",
)


@router.post("/prompt-templates/{template_id}/render", response_model=schemas.RenderOut)
async def render_template(
    template_id: uuid.UUID,
    body: schemas.RenderIn,
    context: Annotated[RequestContext, authorized("tools:read")],
) -> schemas.RenderOut:
    """The template with its variables filled in: every declared one is needed and no
    other is taken (422 naming the variable)."""
    template = await PROMPT_TEMPLATES.get(context.session, context.principal, template_id)
    text = render(template.template_content, template.variables, body.variables)
    return schemas.RenderOut(text=text)


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
