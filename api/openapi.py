"""The API's own description: the OpenAPI document (with the problem schema every error answers) and the
/docs (Swagger UI) and /redoc pages, served from the packaged copies in api/static/ (no CDN)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from api.errors import problem_schema

STATIC_DIR = Path(__file__).parent / "static"
# The viewers style themselves inline and draw icons as data: URLs; nothing may come from another host
# (ReDoc's sidebar links a logo on its vendor's CDN: refused here, and the viewer then leaves it out).
DOCS_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; worker-src 'self' blob:; "
            "frame-ancestors 'none'")


def install_openapi(app: FastAPI) -> None:
    """Serve /openapi.json with the problem schemas, /docs, /redoc and their assets under /static."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description,
                                 routes=app.routes, tags=app.openapi_tags)
            schema.setdefault("components", {}).setdefault("schemas", {}).update(problem_schema())
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to customise it

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> FileResponse:
        return FileResponse(STATIC_DIR / "docs.html", headers={"Content-Security-Policy": DOCS_CSP})

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> FileResponse:
        return FileResponse(STATIC_DIR / "redoc.html", headers={"Content-Security-Policy": DOCS_CSP})

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
