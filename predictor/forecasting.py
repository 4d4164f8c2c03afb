"""One forecast from three models: the learned RUL model or the kind's prior, plus health and its drivers.

``forecast_asset`` is pure: it takes the asset's daily feature table (``telemetry_features.daily_features``),
the active learned model for its kind (or None) and the time, and fills every field of ``core.domain.Forecast``:

- RUL quantiles in days: the learned model when one is active for the kind and the table has at least
  ``MIN_HISTORY_DAYS`` rows with every feature the model was trained on, else the kind's prior (conditional
  Weibull given the usage meter);
- the same quantiles in usage (days x the meter's rate per day) and P(failure within 30 / 90 days);
- health 0-100 and its drivers (``predictor.health``), always; the old trend-to-limit days of each wear
  indicator go into ``details`` as a condition signal (``trend_rul_days.<metric>``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from core.domain import Asset, AssetKind, Forecast
from predictor.forecast_notes import METER_VALUE  # a detail: the usage meter when the forecast was made (PM on usage)
from predictor.health import assess
from predictor.priors import PRIORS, Prior
from predictor.rul import RulModel, UnitSeries, failure_probability
from predictor.telemetry_features import DailyFeatures, Meter, usage_meter

MIN_HISTORY_DAYS = 7
LOOKBACK_DAYS = 30  # the learned model sees the last 30 days, in training as in forecasting
HORIZONS_D = (30.0, 90.0)


def model_name(kind: AssetKind) -> str:
    """The stored name of the learned model of a kind (``ModelRecord.name``): ``rul-pump``..."""
    return f"rul-{kind.value}"


@dataclass(frozen=True, slots=True)
class ActiveModel:
    """A learned model loaded from its ``ModelRecord``: name, version and the fitted ``RulModel``."""

    name: str
    version: int
    model: RulModel


@dataclass(frozen=True, slots=True)
class Quantiles:
    """RUL P10/P50/P90 in days and the probabilities of failure within 30 and 90 days."""

    p10: float
    p50: float
    p90: float
    p_fail_30d: float
    p_fail_90d: float


def forecast_asset(asset: Asset, at: datetime, table: DailyFeatures, model: ActiveModel | None = None,
                   *, min_history_days: int = MIN_HISTORY_DAYS) -> Forecast:
    """The asset's forecast at ``at`` from its daily table (which may be empty: then the prior alone)."""
    meter = usage_meter(table) if table.days else None
    health = assess(table)
    if model is not None and len(table.days) >= min_history_days and _has_features(table, model):
        quantiles, name, version = learned_quantiles(model, table), model.name, str(model.version)
    else:
        prior = PRIORS[asset.kind]
        quantiles, name, version = prior_quantiles(prior, meter), prior.name, prior.version
    if health.score <= 0.0:  # a feature at its limit (a failed lamp, vibration past ISO C/D): failing now
        quantiles = FAILING_NOW
    rate = meter.rate_per_day if meter is not None else None
    top = health.drivers[0].feature if health.drivers else ""
    return Forecast(
        asset_id=asset.id, at=at, health=health.score, rul_days=quantiles.p50, driver=top, model=name,
        details={**health.details, "history_days": float(len(table.days)),
                 **({METER_VALUE: meter.value} if meter is not None and math.isfinite(meter.value) else {})},
        rul_p10_days=quantiles.p10, rul_p90_days=quantiles.p90,
        usage_unit=meter.unit if meter is not None else None,
        rul_p10_usage=_usage(quantiles.p10, rate), rul_p50_usage=_usage(quantiles.p50, rate),
        rul_p90_usage=_usage(quantiles.p90, rate),
        p_fail_30d=quantiles.p_fail_30d, p_fail_90d=quantiles.p_fail_90d,
        drivers=health.drivers, model_version=version)


FAILING_NOW = Quantiles(0.0, 0.0, 0.0, 1.0, 1.0)


def learned_quantiles(model: ActiveModel, table: DailyFeatures) -> Quantiles:
    """The learned model's P10/P50/P90 at the table's last day (seen through its last LOOKBACK_DAYS rows, as in
    training), and the failure probabilities through them."""
    days = table.days[-LOOKBACK_DAYS:]
    time = np.array([(day - days[0]).days for day in days], dtype=np.float64)
    columns = [table.names.index(n) for n in model.model.feature_names]
    unit = UnitSeries("asset", time, table.values[-LOOKBACK_DAYS:][:, columns])
    p10, p50, p90 = (float(v) for v in model.model.predict([unit])[0])
    return Quantiles(p10, p50, p90, *(failure_probability(p10, p50, p90, h) for h in HORIZONS_D))


def _has_features(table: DailyFeatures, model: ActiveModel) -> bool:
    """Whether the rows the model reads hold every feature it was trained on (else the prior judges the asset)."""
    names = model.model.feature_names
    return set(names) <= set(table.names) and bool(
        np.isfinite(table.values[-LOOKBACK_DAYS:][:, [table.names.index(n) for n in names]]).all())


def prior_quantiles(prior: Prior, meter: Meter | None) -> Quantiles:
    """The prior's quantiles given the used life on the meter (0 if unknown) at its rate of use."""
    used = meter.value if meter is not None and math.isfinite(meter.value) else 0.0
    rate = meter.rate_per_day if meter is not None and meter.rate_per_day else prior.default_rate_per_day
    p10, p50, p90 = (prior.remaining(used, q) / rate for q in (0.1, 0.5, 0.9))
    p30, p90d = (prior.p_fail(used, h * rate) for h in HORIZONS_D)
    return Quantiles(p10, p50, p90, p30, p90d)


def _usage(days: float, rate: float | None) -> float | None:
    """Days as usage at the meter's rate; None when the meter stood still (no use, no usage to count down)."""
    return days * rate if rate is not None and rate > 0 and math.isfinite(days) else None
