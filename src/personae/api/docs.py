"""The API's documentation pages, `/docs` (Swagger UI) and `/redoc`, with their scripts and
styles served by this server, so that they work offline (FastAPI's own pages load them
from a CDN). The files come from the `fastapi-offline` package (Swagger UI, Apache-2.0;
ReDoc, MIT): the one place it is touched."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

ASSETS = Path(fastapi_offline.__file__).parent / "static"
AT = "/docs-assets"


def install(app: FastAPI) -> None:
    """Serve the pages and their assets (the app is made with `docs_url=None`,
    `redoc_url=None`)."""
    app.mount(AT, StaticFiles(directory=ASSETS), name="docs-assets")
    openapi = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    async def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi,
            title=f"{app.title} API",
            swagger_js_url=f"{AT}/swagger-ui-bundle.js",
            swagger_css_url=f"{AT}/swagger-ui.css",
            swagger_favicon_url=f"{AT}/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi,
            title=f"{app.title} API",
            redoc_js_url=f"{AT}/redoc.standalone.js",
            redoc_favicon_url=f"{AT}/favicon.png",
            with_google_fonts=False,
        )
