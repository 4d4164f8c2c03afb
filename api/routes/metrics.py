"""Prometheus metrics of the collector at ``GET /metrics`` (open, like /healthz: scrapers carry no token)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from api.deps import ServicesDep
from collector.metrics import CONTENT_TYPE

router = APIRouter(tags=["metrics"])


@router.get("/metrics", include_in_schema=False)
def get_metrics(services: ServicesDep) -> Response:
    """The collector's counters, gauges and histograms in the Prometheus text format."""
    body = services.metrics() if services.metrics is not None else b""
    return Response(content=body, media_type=CONTENT_TYPE)
