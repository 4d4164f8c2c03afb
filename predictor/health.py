"""Health and remaining useful life: per-indicator condition and time-to-limit, combined into a Forecast."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from core.domain import Forecast
from predictor.features import CounterFeatures, GaugeFeatures, UsageCounter, WearIndicator
from predictor.model import TrendToLimit

MODEL_NAME = "trend-v1"


@dataclass(frozen=True, slots=True)
class IndicatorHealth:
    """One indicator's verdict: condition in [0, 1] and days until it reaches its limit (None: unknown)."""

    metric: str
    health: float
    rul_days: float | None
    current: float
    n_points: int = 1


def condition(indicator: WearIndicator, value: float) -> float:
    """1 at (or better than) the baseline, 0 at (or past) the limit, linear in between."""
    worn = (value - indicator.baseline) / (indicator.limit - indicator.baseline)
    return _clip01(1.0 - worn)


def gauge_health(indicator: WearIndicator, features: GaugeFeatures, min_points: int = 3) -> IndicatorHealth:
    """Condition of the newest value; RUL from the robust trend (needs ``min_points`` points).

    At or past the limit the RUL is 0 whatever the trend; a trend that does not move towards the limit
    gives no RUL (None).
    """
    health = condition(indicator, features.current)
    rul: float | None = None
    if health <= 0.0:
        rul = 0.0
    elif features.n_points >= min_points:
        model = TrendToLimit(limit=indicator.limit, direction=indicator.direction.value, min_points=min_points)
        days = model.fit(features.t_days, features.values).time_to_limit(0.0)
        rul = days if math.isfinite(days) else None
    return IndicatorHealth(indicator.metric, health, rul, features.current, features.n_points)


def counter_health(counter: UsageCounter, features: CounterFeatures) -> IndicatorHealth:
    """1 - used/rated; RUL = remaining rated use at the recent rate of use (None if the counter stood still)."""
    health = _clip01(1.0 - features.current / counter.rated)
    remaining = max(counter.rated - features.current, 0.0)
    rul = remaining / features.rate_per_day if features.rate_per_day else None
    return IndicatorHealth(counter.metric, health, rul, features.current)


def combine(asset_id: str, at: datetime, parts: Sequence[IndicatorHealth]) -> Forecast:
    """Health = the worst indicator's (which is the ``driver``); RUL = the soonest indicator's, if any.

    Ties on health go to the indicator with the shorter RUL. ``details`` carries every indicator's
    health, current value, RUL (when known) and point count, keyed ``<what>.<metric>``.
    """
    if not parts:
        raise ValueError("combine needs at least one indicator")
    worst = min(parts, key=lambda p: (p.health, math.inf if p.rul_days is None else p.rul_days))
    ruls = [p.rul_days for p in parts if p.rul_days is not None]
    return Forecast(asset_id=asset_id, at=at, health=worst.health, rul_days=min(ruls) if ruls else None,
                    driver=worst.metric, model=MODEL_NAME, details=_details(parts))


def _details(parts: Sequence[IndicatorHealth]) -> dict[str, float]:
    details: dict[str, float] = {}
    for part in parts:
        details[f"health.{part.metric}"] = part.health
        details[f"current.{part.metric}"] = part.current
        details[f"points.{part.metric}"] = float(part.n_points)
        if part.rul_days is not None:
            details[f"rul_days.{part.metric}"] = part.rul_days
    return details


def _clip01(value: float) -> float:
    return min(max(value, 0.0), 1.0)
