"""Liveness and readiness, open without a token: what the orchestrator's probes ask."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.deps import ServicesDep
from api.schemas import Health
from core.health import RECORDS_DATABASE  # the one dependency without which no request can be served

router = APIRouter(tags=["health"])


def _health(request: Request, services: ServicesDep) -> Health:
    report: dict[str, Any] = services.health() if services.health is not None else {"status": "ok"}
    return Health(version=request.app.version, **report)


@router.get("/healthz", response_model=Health)
async def healthz(request: Request, services: ServicesDep) -> Health:
    """Answers 200 while the process runs (use it for liveness); `status` is `degraded` and `down` names
    what does not answer (broker, telemetry_store, records_database) while the service spools and retries."""
    return _health(request, services)


@router.get("/readyz", response_model=Health, responses={503: {"model": Health, "description": "Not ready."}})
async def readyz(request: Request, services: ServicesDep) -> Health | JSONResponse:
    """200 when this process can serve requests: its records database answers; 503 while it does not. A
    broker or store outage leaves it ready: readings wait in the spool and records are served."""
    health = _health(request, services)
    if RECORDS_DATABASE in health.down:
        return JSONResponse(health.model_dump(mode="json"), status_code=503)
    return health
