"""Assets (elevators, pumps, lighting circuits), their latest values and their telemetry history."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from api.cursors import decode_cursor
from api.deps import ServicesDep
from api.errors import unprocessable
from api.identity import require
from api.pages import DEFAULT_LIMIT, Cursor, Limit, Page, keyset_page
from api.params import ZonedTime
from api.schemas import AssetDetail, AssetPublic, LatestTelemetry, TelemetryPoint, TelemetrySeries
from core.catalogue import metric_spec
from core.domain import AssetKind
from people.access import Permission
from storage.telemetry import Aggregation

# Technicians read the machines they work on (orders:own) as well as the staff who read everything.
router = APIRouter(prefix="/assets", tags=["assets"], dependencies=[require(Permission.READ, Permission.ORDERS_OWN)])

DEFAULT_SPAN = timedelta(hours=24)
MAX_POINTS = 20_000  # a raw query over a long span would otherwise ship millions of points


@router.get("", response_model=Page[AssetPublic])
def list_assets(services: ServicesDep, site: str | None = None, kind: AssetKind | None = None,
                limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> Page[AssetPublic]:
    """The monitored assets by id, optionally only those of one site and/or one kind."""
    after = decode_cursor(cursor, str)
    assets, last = services.db.assets.page(site, kind, limit, None if after is None else after[0])
    return keyset_page([AssetPublic.of(asset) for asset in assets], services.db.assets.total(site, kind),
                       None if last is None else (last, 0))


@router.get("/{asset_id}", response_model=AssetDetail)
def get_asset(services: ServicesDep, asset_id: str) -> AssetDetail:
    """One asset with the newest value of each of its metrics (null before its first report)."""
    asset = services.db.assets.get(asset_id)
    reading = services.store.latest([asset_id]).get(asset_id)
    latest = LatestTelemetry.of(reading) if reading is not None else None
    return AssetDetail(latest=latest, **AssetPublic.of(asset).model_dump())


@router.get("/{asset_id}/telemetry", response_model=TelemetrySeries)
def get_telemetry(
    services: ServicesDep,
    asset_id: str,
    metric: Annotated[str, Query(description="Metric name from the catalogue, e.g. vibration_mm_s.")],
    since: Annotated[ZonedTime | None, Query(description="Start (inclusive); default until - 24 h.")] = None,
    until: Annotated[ZonedTime | None, Query(description="End (exclusive); default now.")] = None,
    window: Annotated[timedelta | None, Query(
        description="Bucket width as seconds or ISO 8601 (PT5M); omit for raw points.")] = None,
    agg: Annotated[Aggregation, Query(description="Aggregation per time bucket.")] = "mean",
) -> TelemetrySeries:
    """A metric's history for one asset over ``[since, until)``, raw or aggregated per time bucket."""
    asset = services.db.assets.get(asset_id)
    spec = metric_spec(asset.kind, metric)
    if spec is None:
        raise unprocessable(f"assets of kind {asset.kind.value!r} have no metric {metric!r}")
    end = until if until is not None else services.clock.now()
    start = since if since is not None else end - DEFAULT_SPAN
    _check_span(start, end, window)
    points = services.store.query(asset_id, metric, start, end, window, agg)
    return TelemetrySeries(asset_id=asset_id, metric=metric, unit=spec.unit, since=start, until=end,
                           window=window, agg=agg, truncated=len(points) > MAX_POINTS,
                           points=[TelemetryPoint(at=at, value=value) for at, value in points[:MAX_POINTS]])


def _check_span(since: datetime, until: datetime, window: timedelta | None) -> None:
    if since >= until:
        raise unprocessable("'since' must be before 'until'")
    if window is not None and window <= timedelta(0):
        raise unprocessable("'window' must be positive")
    if window is not None and (until - since) / window > MAX_POINTS:
        raise unprocessable(f"more than {MAX_POINTS} buckets; widen 'window' or narrow the span")
