"""Telemetry for charts: one metric of one asset over any span, downsampled by the telemetry store's own
aggregates to about ``points`` buckets, each with its mean, minimum and maximum (so a spike survives the
downsampling), in columns that a chart library (uPlot) draws as they are."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel, Field

from api.deps import ServicesDep
from api.errors import unprocessable
from api.identity import require
from api.pages import Page, whole
from core.catalogue import CATALOGUE, MetricType, metric_spec
from people.access import Permission

router = APIRouter(prefix="/assets", tags=["assets"], dependencies=[require(Permission.READ)])

DEFAULT_SPAN = timedelta(days=7)
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
# Bucket widths a chart's axis reads well, in seconds; the narrowest one giving at most ``points`` buckets.
STEPS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
           2 * 86400, 7 * 86400, 14 * 86400, 30 * 86400, 91 * 86400, 365 * 86400)


class TelemetryChart(BaseModel):
    """Columns of equal length: bucket start (Unix seconds), mean, min, max."""

    asset_id: str
    metric: str
    unit: str
    since: datetime
    until: datetime
    window_s: int = Field(description="The bucket width chosen for the span and `points`.")
    at: list[float] = Field(description="Bucket starts, Unix seconds (UTC); buckets without data are left out.")
    mean: list[float | None]
    min: list[float | None]
    max: list[float | None]


class MetricPublic(BaseModel):
    """A metric of the catalogue: what an asset of this kind reports."""

    name: str
    unit: str
    type: MetricType = Field(description="gauge (a level), counter (a running total) or flag (on/off).")
    description: str
    normal: tuple[float, float] = Field(description="The range of a healthy asset (a chart's guide lines).")


def bucket_width(span: timedelta, points: int) -> int:
    """The narrowest readable bucket width (seconds) that splits ``span`` into at most ``points`` buckets."""
    needed = math.ceil(span.total_seconds() / points)
    return next((step for step in STEPS_S if step >= needed), STEPS_S[-1])


@router.get("/{asset_id}/metrics", response_model=Page[MetricPublic])
def asset_metrics(services: ServicesDep, asset_id: str) -> Page[MetricPublic]:
    """The metrics an asset reports, from the catalogue of its kind (the charts an asset page offers). A small
    fixed catalogue: one page holds it all, `next_cursor` is always null."""
    asset = services.db.assets.get(asset_id)
    return whole([MetricPublic(name=spec.name, unit=spec.unit, type=spec.type, description=spec.description,
                         normal=spec.normal) for spec in CATALOGUE[asset.kind].values()])


@router.get("/{asset_id}/chart", response_model=TelemetryChart)
def telemetry_chart(
    services: ServicesDep,
    asset_id: str,
    metric: Annotated[str, Query(max_length=64, description="Metric name from the catalogue.")],
    since: Annotated[AwareDatetime | None, Query(description="Start (inclusive); default until - 7 days.")] = None,
    until: Annotated[AwareDatetime | None, Query(description="End (exclusive); default now.")] = None,
    points: Annotated[int, Query(ge=10, le=5000, description="About how many buckets to return.")] = 600,
) -> TelemetryChart:
    """A metric's history downsampled for a chart: zoom by asking again for a narrower span."""
    asset = services.db.assets.get(asset_id)
    spec = metric_spec(asset.kind, metric)
    if spec is None:
        raise unprocessable(f"assets of kind {asset.kind.value!r} have no metric {metric!r}")
    end = until or services.clock.now()
    if not EARLIEST < end <= LATEST:
        raise unprocessable("'until' must lie between 1970 and 2200")
    start = since or end - DEFAULT_SPAN
    if not EARLIEST <= start < end:
        raise unprocessable("'since' must lie after 1970 and before 'until'")
    width = bucket_width(end - start, points)
    window = timedelta(seconds=width)
    columns = {agg: dict(services.store.query(asset_id, metric, start, end, window, agg))
               for agg in ("mean", "min", "max")}
    times = sorted(columns["mean"])
    return TelemetryChart(asset_id=asset_id, metric=metric, unit=spec.unit, since=start, until=end, window_s=width,
                          at=[at.timestamp() for at in times], mean=[columns["mean"][at] for at in times],
                          min=[columns["min"].get(at) for at in times], max=[columns["max"].get(at) for at in times])
