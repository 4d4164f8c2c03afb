"""The FastAPI application: REST under /api/v1, the live event stream, /healthz and the console at /."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from api.auth import require_token, require_token_or_query
from api.deps import Services
from api.errors import ERROR_RESPONSES, install_error_handlers
from api.openapi import install_openapi
from api.request_ids import install_request_ids
from api.routes import (
    alarms,
    assets,
    attachments,
    complaints,
    deadletters,
    emergency,
    events,
    forecasts,
    health,
    inspections,
    maintenance,
    metrics,
    notices,
    people,
    plans,
    reports,
    rules,
    sla,
    stats,
    webhooks,
    workorders,
)

API_PREFIX = "/api/v1"
# The routers under /api/v1 behind the token, one per line.
ROUTERS = (
    assets,
    alarms,
    workorders,
    forecasts,
    deadletters,
    stats,
    maintenance,
    rules,
    webhooks,
    complaints,
    notices,
    emergency,
    attachments,
    sla,
    people,
    inspections,
    reports,
    plans,
)
CONSOLE_DIR = Path(__file__).parent / "console"

DESCRIPTION = """\
Live alarms, work orders, asset telemetry and wear forecasts of the monitored buildings.

Every `/api/v1` route needs `Authorization: Bearer <token>` when the service has a token;
the event stream also takes it as `?token=`. `/healthz` and the console page are open.
"""


def _package_version() -> str:
    try:
        return version("facmon")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "0+unknown"


def create_app(services: Services) -> FastAPI:
    """The application serving ``services``; the caller runs it (uvicorn) and owns the services."""
    app = FastAPI(title="facmon", version=_package_version(), description=DESCRIPTION, docs_url=None,
                  redoc_url=None, responses=ERROR_RESPONSES)
    app.state.services = services
    install_error_handlers(app)
    install_request_ids(app)
    install_openapi(app)
    app.include_router(health.router)
    app.include_router(metrics.router)  # Prometheus scrapes /metrics (open, like /healthz)
    for module in ROUTERS:
        app.include_router(module.router, prefix=API_PREFIX, dependencies=[Depends(require_token)])
    app.include_router(events.router, prefix=API_PREFIX, dependencies=[Depends(require_token_or_query)])
    app.include_router(notices.feeds)  # residents' feed readers and calendars subscribe without a token
    app.include_router(workorders.public_router, prefix=API_PREFIX)  # residents' requests: no token

    @app.get("/request", include_in_schema=False)
    def repair_request_form() -> FileResponse:
        # The residents' repair form (a QR code on the notice board points here, ?site=<id>); open.
        return FileResponse(CONSOLE_DIR / "request.html", headers={"Cache-Control": "no-cache"})

    @app.get("/", include_in_schema=False)
    def console() -> FileResponse:
        return FileResponse(CONSOLE_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    app.mount("/console", StaticFiles(directory=CONSOLE_DIR), name="console")
    return app
