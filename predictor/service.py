"""The predictor service: reads each asset's daily features, stores its forecast and announces it.

The I/O shell around ``predictor.forecasting.forecast_asset``: the daily feature table comes from the telemetry
store (aggregated there), the kind's active learned model from ``db.models`` (loaded once per run and kind),
the forecast goes to ``db.forecasts`` and out as a ``forecast.updated`` event.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from core.clock import Clock
from core.domain import Asset, AssetKind, Forecast
from core.events import EventBus
from predictor.forecasting import MIN_HISTORY_DAYS, ActiveModel, forecast_asset, model_name
from predictor.rul import RulModel
from predictor.telemetry_features import daily_features, whole_days_until

if TYPE_CHECKING:
    from storage.records import Database
    from storage.telemetry import TelemetryStore

log = logging.getLogger(__name__)

FORECAST_TOPIC = "forecast.updated"


@dataclass(slots=True)
class PredictorStats:
    """Counts since start: runs, forecasts stored, assets skipped for lack of data, assets that failed."""

    runs: int = 0
    forecasts: int = 0
    skipped: int = 0
    failed: int = 0
    learned: int = 0  # forecasts from a learned model (the rest came from the kind's prior)


class Predictor:
    """Forecasts every asset with telemetry in the history window; one bad asset never stops a run."""

    def __init__(self, store: TelemetryStore, db: Database, bus: EventBus, clock: Clock,
                 history: timedelta = timedelta(days=30), *, min_history_days: int = MIN_HISTORY_DAYS) -> None:
        if min_history_days < 1:
            raise ValueError("min_history_days must be at least 1")
        self._store = store
        self._db = db
        self._bus = bus
        self._clock = clock
        self.history = history
        self.min_history_days = min_history_days
        self.stats = PredictorStats()

    def run_once(self) -> list[Forecast]:
        """Forecast, store and publish for every asset; returns the forecasts stored in this run."""
        at = self._clock.now()
        self.stats.runs += 1
        models: dict[AssetKind, ActiveModel | None] = {}
        stored: list[Forecast] = []
        for asset in self._db.assets.list():
            try:
                if asset.kind not in models:
                    models[asset.kind] = self.active_model(asset.kind)
                forecast = self.forecast(asset, at, models[asset.kind])
                if forecast is None:
                    self.stats.skipped += 1
                    continue
                self._db.forecasts.add(forecast)
            except Exception:
                self.stats.failed += 1
                log.exception("forecast failed for asset %s", asset.id)
                continue
            self.stats.forecasts += 1
            self.stats.learned += forecast.model.startswith("rul-")
            stored.append(forecast)
            self._bus.publish(FORECAST_TOPIC, {**forecast_json(forecast), "site_id": asset.site_id})
        return stored

    def forecast(self, asset: Asset, at: datetime, model: ActiveModel | None = None) -> Forecast | None:
        """The asset's forecast at ``at``, or None if it reported nothing in the history window.

        The table holds whole days up to the last midnight; only an asset with nothing but today's data (a new
        asset, or the accelerated demo's first hours) is read up to ``at``, so it still gets a forecast.
        """
        table = daily_features(self._store, asset, at - self.history, whole_days_until(at))
        if not table.days:
            table = daily_features(self._store, asset, at - self.history, at)
        if not table.days:
            return None
        return forecast_asset(asset, at, table, model, min_history_days=self.min_history_days)

    def active_model(self, kind: AssetKind) -> ActiveModel | None:
        """The kind's active learned model, or None (no model trained yet, or one that does not load: the
        prior is used then, and the failure is logged)."""
        record = self._db.models.active(model_name(kind))
        if record is None:
            return None
        try:
            return ActiveModel(record.name, record.version, RulModel.from_bytes(record.blob))
        except Exception:
            log.exception("model %s version %s does not load; using the prior", record.name, record.version)
            return None


def forecast_json(forecast: Forecast) -> dict[str, Any]:
    """A forecast as a JSON-safe dict (the data of a ``forecast.updated`` event and the API's forecast)."""
    return {
        "asset_id": forecast.asset_id,
        "at": forecast.at.isoformat(),
        "health": forecast.health,
        "rul_days": forecast.rul_days,
        "rul_p10_days": forecast.rul_p10_days,
        "rul_p90_days": forecast.rul_p90_days,
        "usage_unit": forecast.usage_unit,
        "rul_p10_usage": forecast.rul_p10_usage,
        "rul_p50_usage": forecast.rul_p50_usage,
        "rul_p90_usage": forecast.rul_p90_usage,
        "p_fail_30d": forecast.p_fail_30d,
        "p_fail_90d": forecast.p_fail_90d,
        "driver": forecast.driver,
        "drivers": [{"feature": d.feature, "penalty": d.penalty, "text": d.text} for d in forecast.drivers],
        "model": forecast.model,
        "model_version": forecast.model_version,
        "details": dict(forecast.details),
    }
