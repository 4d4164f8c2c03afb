"""The liveness check, open without a token."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def healthz(request: Request) -> Health:
    """Answers 200 while the service runs; needs no token."""
    return Health(status="ok", version=request.app.version)
