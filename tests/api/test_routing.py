"""Routes are matched in the order their routers are included (the hot ones first): no
route may be hidden by one matched before it."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi.routing import APIRoute
from starlette.routing import Match

from personae.api.app import create_app
from personae.db.engine import DatabaseUrls
from personae.settings import Settings

UNUSED = "postgresql+asyncpg://nobody@127.0.0.1:1/none"  # never connected: no lifespan


def test_every_route_is_the_first_to_match_its_own_paths() -> None:
    app = create_app(
        Settings(embedder="hashing"), DatabaseUrls(UNUSED, UNUSED), master_key=b"k" * 32
    )
    routes = list(_api_routes(app.router.routes))
    assert len(routes) > 100
    checked = 0
    for route in routes:
        for filler in (str(uuid.uuid4()), "search", "x"):
            path = re.sub(r"\{[^}]+\}", filler, route.path)
            for method in sorted(route.methods or ()):
                scope: dict[str, object] = {
                    "type": "http",
                    "path": path,
                    "root_path": "",
                    "method": method,
                }
                first = next(
                    (r for r in app.router.routes if r.matches(dict(scope))[0] == Match.FULL),
                    None,
                )
                own = route.matches(dict(scope))[0] == Match.FULL
                if own:  # the filler fits the route's own converters
                    checked += 1
                    assert first is not None and _holds(first, route, scope), (
                        f"{method} {path} reaches another route before {route.path}"
                    )
    assert checked >= len(routes)


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from _api_routes(route.original_router.routes)


def _holds(first: object, route: APIRoute, scope: dict[str, object]) -> bool:
    """Whether `first` (an included router or a route) is, or leads to, `route`."""
    if first is route:
        return True
    original = getattr(first, "original_router", None)
    if original is None:
        return False
    inner = next(
        (r for r in original.routes if r.matches(dict(scope))[0] == Match.FULL),
        None,
    )
    return inner is not None and (inner is route or _holds(inner, route, scope))
