"""The FastAPI application: REST under /api/v1, the live event stream, /healthz and the console at /."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from api.audit import AuditMiddleware, remember_principal
from api.deps import Services
from api.errors import ERROR_RESPONSES, install_error_handlers
from api.headers import SecurityHeaders
from api.identity import current_principal_or_query, require
from api.oidc import OidcClient
from api.openapi import install_openapi
from api.request_ids import install_request_ids
from api.routes import (
    alarms,
    assets,
    attachments,
    audit,
    auth,
    complaints,
    completion,
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
    qrcodes,
    reports,
    resident,
    rules,
    sites,
    sla,
    stats,
    telemetry,
    users,
    webhooks,
    workorders,
)
from people.access import Permission

API_PREFIX = "/api/v1"
# The routers under /api/v1, one per line: each needs a signed-in principal, and each route a permission.
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
    sites,
    audit,
    users,
    qrcodes,
    telemetry,
    resident,
    completion,
)
CONSOLE_DIR = Path(__file__).parent / "console"

DESCRIPTION = """\
Live alarms, work orders, asset telemetry and wear forecasts of the monitored buildings.

Every `/api/v1` route needs a signed-in identity: a personal API token as
`Authorization: Bearer fm_<id>_<secret>`, or the console's session cookie (with the `X-CSRF-Token`
header on writes; sign in with `POST /api/v1/auth/login`). The event stream also takes the token as
`?token=`. `/healthz`, `/api/v1/auth/login` and the console page are open.
"""


def _package_version() -> str:
    try:
        return version("facmon")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "0+unknown"


def create_probe_app(services: Services) -> FastAPI:
    """Only ``/healthz`` and ``/metrics``: what a process without the api role (a partition) serves to its
    orchestrator's probes and to Prometheus."""
    app = FastAPI(title="facmon", version=_package_version(), docs_url=None, redoc_url=None, openapi_url=None)
    app.state.services = services
    app.include_router(health.router)
    app.include_router(metrics.router)
    return app


def create_app(services: Services) -> FastAPI:
    """The application serving ``services``; the caller runs it (uvicorn) and owns the services."""
    app = FastAPI(title="facmon", version=_package_version(), description=DESCRIPTION, docs_url=None,
                  redoc_url=None, responses=ERROR_RESPONSES)
    app.state.services = services
    services.identity()  # the accounts, built once before requests share them
    app.state.login_limiter = auth.LoginLimiter(services.auth.login_rate)
    app.state.oidc = OidcClient(services.auth.oidc) if services.auth.oidc is not None else None
    install_error_handlers(app)
    app.add_middleware(AuditMiddleware)  # records the writes a route did not record itself
    app.add_middleware(SecurityHeaders)
    if services.cors_origins:  # none by default: the console is served from this same origin
        app.add_middleware(CORSMiddleware, allow_origins=list(services.cors_origins), allow_credentials=True,
                           allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                           allow_headers=["Authorization", "Content-Type", "X-CSRF-Token", "Last-Event-ID"])
    install_request_ids(app)
    install_openapi(app)
    app.include_router(health.router)
    app.include_router(metrics.router)  # Prometheus scrapes /metrics (open, like /healthz)
    app.include_router(auth.router, prefix=API_PREFIX)  # sign-in: open; /auth/me checks by itself
    for module in ROUTERS:
        app.include_router(module.router, prefix=API_PREFIX, dependencies=[Depends(remember_principal)])
    # The live stream: staff and technicians (residents follow their own requests by link); the token may
    # also come as ?token= for clients that can set neither a header nor a cookie.
    streamers = require(Permission.READ, Permission.ORDERS_OWN, source=current_principal_or_query)
    app.include_router(events.router, prefix=API_PREFIX, dependencies=[streamers])
    app.include_router(notices.feeds)  # residents' feed readers and calendars subscribe without a token
    app.include_router(workorders.public_router, prefix=API_PREFIX)  # residents' requests: no token
    app.include_router(resident.public_router, prefix=API_PREFIX)  # residents' forms and follow links: open
    app.include_router(resident.pages)  # the follow page /follow/<token>

    @app.get("/request", include_in_schema=False)
    def repair_request_form() -> FileResponse:
        # The residents' repair form (a QR code on the notice board points here, ?site=<id>); open.
        return FileResponse(CONSOLE_DIR / "request.html", headers={"Cache-Control": "no-cache"})

    @app.get("/", include_in_schema=False)
    def console() -> FileResponse:
        return FileResponse(CONSOLE_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    app.mount("/console", StaticFiles(directory=CONSOLE_DIR), name="console")
    return app
