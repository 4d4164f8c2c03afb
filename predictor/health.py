"""Health 0-100 (100 = as new) from the newest daily features, and the drivers that pull it down, in words.

Each feature with a limit (predictor/features.py: ``WEAR_INDICATORS`` and ``CONDITION_INDICATORS`` are the
only source of limits) is worn by the fraction of the way it has moved from its baseline (as new) to its
limit, clipped to [0, 1]; its *penalty* is 100 x that fraction. A usage meter (``USAGE_COUNTERS``) has no
limit of its own: its penalty is the share of such parts that have failed by that use under the kind's
prior (predictor/priors.py), so health and the prior's remaining life never contradict each other. Health is
100 minus the largest penalty: the worst feature sets it, as a worn bearing fails the pump however new its
seal is. Drivers are the features with a penalty of at least ``MIN_PENALTY``, worst first, each with a
sentence a planner reads. The trend-to-limit days of each wear indicator (``TrendToLimit`` on its daily
values) go into ``details`` as a condition signal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.domain import AssetKind, Driver
from predictor.features import (
    CONDITION_INDICATORS,
    USAGE_COUNTERS,
    WEAR_INDICATORS,
    Direction,
    WearIndicator,
)
from predictor.model import TrendToLimit
from predictor.priors import PRIORS
from predictor.telemetry_features import DailyFeatures

MIN_PENALTY = 5.0
MAX_DRIVERS = 3
TREND_ROWS = 14  # the trend-to-limit signal fits the last two weeks of daily values

# Words and units for the sentences; the feature a wear indicator is read from in the daily table.
LABELS: dict[str, tuple[str, str]] = {
    "vibration_mm_s": ("vibration", "mm/s"), "bearing_temp_c": ("bearing temperature", "degC"),
    "door_close_s": ("door closing time", "s"), "driver_temp_c": ("driver temperature", "degC"),
    "run_hours": ("run hours", "h"), "door_cycles": ("door cycles", "cycles"), "burn_hours": ("burn hours", "h"),
    "efficiency.drift_pct": ("efficiency drift", "%"), "starts.per_hour": ("starts", "per hour"),
    "dry_run.hours": ("dry running", "h/day"), "door_reopenings.mean": ("door reopenings", "per report"),
    "motor_current_a.max": ("peak motor current", "A"), "leveling_error_mm.abs_max": ("leveling error", "mm"),
    "failed_lamps.max": ("failed lamps", ""), "lumen_output_pct.mean": ("light output", "%"),
}
GAUGE_SUFFIX: dict[AssetKind, str] = {AssetKind.PUMP: ".mean", AssetKind.ELEVATOR: ".mean",
                                      AssetKind.LIGHTING: ".max"}


@dataclass(frozen=True, slots=True)
class Limit:
    """A daily feature, the indicator holding its baseline and limit, and its trend column (if any)."""

    feature: str
    indicator: WearIndicator
    trend: str | None = None


@dataclass(frozen=True, slots=True)
class Health:
    score: float  # 0-100
    drivers: tuple[Driver, ...]
    details: dict[str, float]


def limits(kind: AssetKind) -> tuple[Limit, ...]:
    """Every feature of the kind that has a limit, read from predictor/features.py's tables."""
    suffix = GAUGE_SUFFIX[kind]
    gauges = tuple(Limit(f"{i.metric}{suffix}", i, f"{i.metric}.trend_per_week") for i in WEAR_INDICATORS[kind])
    return gauges + tuple(Limit(i.metric, i) for i in CONDITION_INDICATORS[kind])


def worn_fraction(indicator: WearIndicator, value: float) -> float:
    """0 at (or better than) the baseline, 1 at (or past) the limit, linear in between."""
    worn = (value - indicator.baseline) / (indicator.limit - indicator.baseline)
    return min(max(worn, 0.0), 1.0)


def assess(table: DailyFeatures) -> Health:
    """Health and drivers from the table's newest row (100 and no drivers for an empty table)."""
    row = table.latest()
    drivers: list[Driver] = []
    details: dict[str, float] = {}
    for limit in limits(table.kind):
        value = row.get(limit.feature, math.nan)
        if not math.isfinite(value):
            continue
        penalty = 100.0 * worn_fraction(limit.indicator, value)
        details[f"penalty.{limit.feature}"] = penalty
        details[f"current.{limit.feature}"] = value
        if penalty >= MIN_PENALTY:
            drivers.append(Driver(limit.feature, round(penalty, 1), describe(limit, value, row)))
    for counter in USAGE_COUNTERS[table.kind]:
        feature, value = f"{counter.metric}.value", row.get(f"{counter.metric}.value", math.nan)
        if not math.isfinite(value):
            continue
        prior = PRIORS[table.kind]
        penalty = 100.0 * (1.0 - prior.survival(value))
        details[f"penalty.{feature}"] = penalty
        details[f"current.{feature}"] = value
        if penalty >= MIN_PENALTY:
            label, unit = LABELS.get(counter.metric, (counter.metric, ""))
            text = (f"{label} {_number(value)} {unit}: {penalty:.0f} % of such parts have failed by this use "
                    f"({prior.source})")
            drivers.append(Driver(feature, round(penalty, 1), text))
    details.update(trend_signals(table))
    drivers.sort(key=lambda d: -d.penalty)
    worst = max((v for k, v in details.items() if k.startswith("penalty.")), default=0.0)
    score = 100.0 - worst
    return Health(round(score, 1), tuple(drivers[:MAX_DRIVERS]), details)


def describe(limit: Limit, value: float, row: dict[str, float]) -> str:
    """'vibration 6.2 mm/s, 81 % of the way from new to the limit (ISO 10816 ...), rising 0.3 mm/s per week'."""
    indicator = limit.indicator
    label, unit = LABELS.get(indicator.metric, (indicator.metric, ""))
    share = 100.0 * worn_fraction(indicator, value)
    text = (f"{label} {_number(value)} {unit}".rstrip() + f", {share:.0f} % of the way from new "
            f"({_number(indicator.baseline)}) to the limit {_number(indicator.limit)} ({indicator.source})")
    if indicator.metric == "bearing_temp_c" and math.isfinite(row.get("bearing_temp_c.above_ambient", math.nan)):
        text += f", {row['bearing_temp_c.above_ambient']:.0f} K above ambient"
    trend = row.get(limit.trend, math.nan) if limit.trend else math.nan
    if math.isfinite(trend) and abs(trend) >= 0.005 * abs(indicator.limit - indicator.baseline):
        text += f", {'rising' if trend > 0 else 'falling'} {abs(trend):.2g} {unit} per week"
    return text


def trend_signals(table: DailyFeatures) -> dict[str, float]:
    """Days until each wear indicator's trend over the last TREND_ROWS days reaches its limit (when it does)."""
    signals: dict[str, float] = {}
    for limit in limits(table.kind):
        if limit.trend is None or len(table.days) < 3:
            continue
        values = table.column(limit.feature)[-TREND_ROWS:]
        if not np.isfinite(values).all():
            continue
        t = np.arange(-len(values) + 1, 1, dtype=np.float64).reshape(-1, 1)
        model = TrendToLimit(limit=limit.indicator.limit, direction=Direction(limit.indicator.direction).value)
        days = model.fit(t, values).time_to_limit(0.0)
        if math.isfinite(days):
            signals[f"trend_rul_days.{limit.indicator.metric}"] = days
    return signals


def _number(value: float) -> str:
    """3 significant digits, thousands written out: 6.2, 85, 668,211."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
