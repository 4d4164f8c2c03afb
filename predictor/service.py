"""The predictor service: reads each asset's history, stores a health/RUL forecast and announces it."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from core.clock import Clock
from core.domain import Asset, Forecast
from core.events import EventBus
from predictor.features import (
    USAGE_COUNTERS,
    WEAR_INDICATORS,
    Series,
    UsageCounter,
    WearIndicator,
    counter_features,
    gauge_features,
)
from predictor.health import IndicatorHealth, combine, counter_health, gauge_health
from storage.telemetry import Aggregation, TelemetryStore

if TYPE_CHECKING:
    from storage.records import Database

log = logging.getLogger(__name__)

# Histories are read as hourly aggregates. When an asset has fewer than ``min_points`` of them (a new
# asset, or the accelerated demo where the window holds only a few hours of clock time), the predictor
# falls back to 10-minute aggregates of the same metric.
HOURLY = timedelta(hours=1)
FINE = timedelta(minutes=10)
FORECAST_TOPIC = "forecast.updated"


@dataclass(slots=True)
class PredictorStats:
    """Counts since start: runs, forecasts stored, assets skipped for lack of data, assets that failed."""

    runs: int = 0
    forecasts: int = 0
    skipped: int = 0
    failed: int = 0


class Predictor:
    """Computes a trend-v1 forecast for every asset with enough data; one bad asset never stops a run."""

    def __init__(self, store: TelemetryStore, db: Database, bus: EventBus, clock: Clock,
                 history: timedelta = timedelta(days=30), *, trend_window: timedelta = timedelta(days=7),
                 min_points: int = 3) -> None:
        if min_points < 2:
            raise ValueError("min_points must be at least 2 (a trend needs two points)")
        self._store = store
        self._db = db
        self._bus = bus
        self._clock = clock
        self.history = history
        self.trend_window = min(trend_window, history)
        self.min_points = min_points
        self.stats = PredictorStats()

    def run_once(self) -> list[Forecast]:
        """Forecast, store and publish for every asset; returns the forecasts stored in this run."""
        at = self._clock.now()
        self.stats.runs += 1
        stored: list[Forecast] = []
        for asset in self._db.assets.list():
            try:
                forecast = self.forecast(asset, at)
                if forecast is None:
                    self.stats.skipped += 1
                    continue
                self._db.forecasts.add(forecast)
            except Exception:
                self.stats.failed += 1
                log.exception("forecast failed for asset %s", asset.id)
                continue
            self.stats.forecasts += 1
            stored.append(forecast)
            self._bus.publish(FORECAST_TOPIC, {**forecast_json(forecast), "site_id": asset.site_id})
        return stored

    def forecast(self, asset: Asset, at: datetime) -> Forecast | None:
        """The asset's forecast at ``at``, or None if no indicator has ``min_points`` points of history."""
        parts: list[IndicatorHealth] = []
        resolutions: dict[str, float] = {}
        for indicator in WEAR_INDICATORS.get(asset.kind, ()):
            gauge = self._gauge(asset.id, indicator, at)
            if gauge is not None:
                parts.append(gauge[0])
                resolutions[f"resolution_min.{indicator.metric}"] = gauge[1]
        for counter in USAGE_COUNTERS.get(asset.kind, ()):
            used = self._counter(asset.id, counter, at)
            if used is not None:
                parts.append(used[0])
                resolutions[f"resolution_min.{counter.metric}"] = used[1]
        if not parts:
            return None
        forecast = combine(asset.id, at, parts)
        return dataclasses.replace(forecast, details={**forecast.details, **resolutions})

    def _gauge(self, asset_id: str, indicator: WearIndicator,
               at: datetime) -> tuple[IndicatorHealth, float] | None:
        series, window = self._history(asset_id, indicator.metric, at - self.trend_window, at, "mean")
        features = gauge_features(indicator.metric, series, at, window)
        if features is None or features.n_points < self.min_points:
            return None
        return gauge_health(indicator, features, self.min_points), window.total_seconds() / 60

    def _counter(self, asset_id: str, counter: UsageCounter,
                 at: datetime) -> tuple[IndicatorHealth, float] | None:
        series, window = self._history(asset_id, counter.metric, at - self.history, at, "max")
        features = counter_features(counter.metric, series)
        if features is None or len(series) < self.min_points:
            return None
        return counter_health(counter, features), window.total_seconds() / 60

    def _history(self, asset_id: str, metric: str, since: datetime, until: datetime,
                 agg: Aggregation) -> tuple[Series, timedelta]:
        """Hourly aggregates, or 10-minute ones when there are fewer than ``min_points`` hourly points."""
        series = self._store.query(asset_id, metric, since, until, window=HOURLY, agg=agg)
        if len(series) >= self.min_points:
            return series, HOURLY
        return self._store.query(asset_id, metric, since, until, window=FINE, agg=agg), FINE


def forecast_json(forecast: Forecast) -> dict[str, Any]:
    """A forecast as a JSON-safe dict (the data of a ``forecast.updated`` event)."""
    return {
        "asset_id": forecast.asset_id,
        "at": forecast.at.isoformat(),
        "health": forecast.health,
        "rul_days": forecast.rul_days,
        "driver": forecast.driver,
        "model": forecast.model,
        "details": dict(forecast.details),
    }
