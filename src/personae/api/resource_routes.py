"""Routes for a `Resource`: POST, GET (pages), GET one, PATCH, DELETE, from its shapes.

    mount(router, TEAMS, path="/teams", id_param="team_id", out=TeamOut,
          create=TeamCreate, update=TeamUpdate)
    mount(router, TEAM_MEMBERS, path="/members", id_param="member_id", out=TeamMemberOut,
          create=TeamMemberCreate, parent=Parent(TEAMS, "/teams", "team_id"))

A resource under a parent (`/teams/{team_id}/members`) names the parent's resource and
path parameter: the parent must exist in the caller's tenant (404 otherwise), and its id is
both a filter and a value of every created row."""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import GenericAlias
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Response
from pydantic import BaseModel, Field, create_model
from sqlalchemy.ext.asyncio import AsyncSession

from personae.api.deps import RequestContext, authorized
from personae.kernel.principal import Principal
from personae.kernel.resources import MAX_PAGE, Resource
from personae.validation import Input


@dataclass(frozen=True)
class Parent:
    resource: Resource[Any]
    path: str
    id_param: str


def list_of(shape: type[BaseModel]) -> Any:
    """`list[shape]` for a shape made at run time (which a type checker takes for a value)."""
    return GenericAlias(list, (shape,))


def page_shape(out: type[BaseModel]) -> type[BaseModel]:
    return create_model(
        f"{out.__name__}Page",
        items=(list_of(out), ...),
        next_cursor=(
            uuid.UUID | None,
            Field(description="Pass as `after` for the next page; null on the last."),
        ),
    )


Deleter = Callable[[AsyncSession, Principal, uuid.UUID, Mapping[str, Any]], Awaitable[None]]
Checker = Callable[[RequestContext, Mapping[str, Any]], Awaitable[None]]
"""A check of a POST's or PATCH's values that the resource's own area cannot make (one
reading an area above it), before they are written."""


def mount(
    router: APIRouter,
    resource: Resource[Any],
    *,
    path: str,
    id_param: str,
    out: type[BaseModel],
    create: type[Input] | None = None,
    update: type[Input] | None = None,
    parent: Parent | None = None,
    filters: type[Input] | None = None,
    tag: str | None = None,
    deletable: bool = True,
    delete: Deleter | None = None,
    check: Checker | None = None,
) -> None:
    """Add the resource's routes to `router` (PATCH only with `update`, POST with `create`,
    DELETE unless not `deletable`, calling `delete` where the area's orchestration does
    more than the resource's own delete, and `check`ing what is written where the area
    cannot)."""
    deleter: Deleter = delete or resource.delete
    kind = resource.kind.replace("_", " ")
    prefix = f"{parent.path}/{{{parent.id_param}}}" if parent else ""
    collection, item = f"{prefix}{path}", f"{prefix}{path}/{{{id_param}}}"
    context = Annotated[RequestContext, authorized()]
    ids = [parent.id_param] if parent else []
    tags: list[str | Any] = [tag or resource.permission]

    async def scope(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if parent is None:
            return {}
        parent_id = params[parent.id_param]
        await parent.resource.get(ctx.session, ctx.principal, parent_id)
        return {parent.id_param: parent_id}

    async def create_one(**params: Any) -> Any:
        ctx: RequestContext = params["context"]
        where = await scope(ctx, params)
        values = params["body"].model_dump(exclude_unset=True)
        if check is not None:
            await check(ctx, values)
        row = await resource.create(ctx.session, ctx.principal, values, where)
        shown = out.model_validate(row)
        await ctx.commit()
        return shown

    async def list_page(**params: Any) -> Any:
        ctx: RequestContext = params["context"]
        where = await scope(ctx, params)
        query = params["query"].model_dump(exclude_none=True)
        after, limit = query.pop("after", None), query.pop("limit")
        page = await resource.page(
            ctx.session, ctx.principal, after=after, limit=limit, where={**query, **where}
        )
        return {
            "items": [out.model_validate(r) for r in page.items],
            "next_cursor": page.next_cursor,
        }

    async def get_one(**params: Any) -> Any:
        ctx: RequestContext = params["context"]
        where = await scope(ctx, params)
        return out.model_validate(
            await resource.read(ctx.session, ctx.principal, params[id_param], where)
        )

    async def update_one(**params: Any) -> Any:
        ctx: RequestContext = params["context"]
        where = await scope(ctx, params)
        changes = params["body"].model_dump(exclude_unset=True)
        if check is not None:
            await check(ctx, changes)
        row = await resource.update(ctx.session, ctx.principal, params[id_param], changes, where)
        shown = out.model_validate(row)
        await ctx.commit()
        return shown

    async def delete_one(**params: Any) -> Any:
        ctx: RequestContext = params["context"]
        where = await scope(ctx, params)
        await deleter(ctx.session, ctx.principal, params[id_param], where)
        await ctx.commit()
        return Response(status_code=204)

    def endpoint(
        handler: Callable[..., Any], names: list[str], returns: Any, **extra: Any
    ) -> Callable[..., Any]:
        parameters = [
            inspect.Parameter(
                n, inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[uuid.UUID, Path()]
            )
            for n in names
        ]
        parameters += [
            inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, annotation=a, default=d)
            for n, (a, d) in extra.items()
        ]
        parameters.append(
            inspect.Parameter("context", inspect.Parameter.KEYWORD_ONLY, annotation=context)
        )
        vars(handler)["__signature__"] = inspect.Signature(parameters, return_annotation=returns)
        return handler

    paged = create_model(  # one model for the query: the filters and the page's place
        f"{filters.__name__ if filters else out.__name__}Query",
        __base__=filters or Input,
        after=(uuid.UUID | None, Field(default=None, description="A page's `next_cursor`.")),
        limit=(int, Field(default=50, ge=1, le=MAX_PAGE)),
    )
    if create is not None:
        router.add_api_route(
            collection,
            endpoint(
                create_one, ids, out, body=(Annotated[create, Body()], inspect.Parameter.empty)
            ),
            methods=["POST"],
            status_code=201,
            summary=f"Create a {kind}",
            tags=tags,
        )
    router.add_api_route(
        collection,
        endpoint(
            list_page,
            ids,
            page_shape(out),
            query=(Annotated[paged, Query()], inspect.Parameter.empty),
        ),
        methods=["GET"],
        summary=f"List {kind}s, oldest first",
        tags=tags,
    )
    router.add_api_route(
        item,
        endpoint(get_one, [*ids, id_param], out),
        methods=["GET"],
        summary=f"One {kind}",
        tags=tags,
    )
    if update is not None:
        router.add_api_route(
            item,
            endpoint(
                update_one,
                [*ids, id_param],
                out,
                body=(Annotated[update, Body()], inspect.Parameter.empty),
            ),
            methods=["PATCH"],
            summary=f"Change a {kind}",
            tags=tags,
        )
    if not deletable:
        return
    router.add_api_route(
        item,
        endpoint(delete_one, [*ids, id_param], None),
        methods=["DELETE"],
        status_code=204,
        summary=f"Delete a {kind}",
        tags=tags,
    )
