"""Wear features: per asset kind, the indicators that wear shows in, and pure functions from history to features.

A *wear indicator* is a gauge that drifts towards a failure limit as a part wears (vibration, a bearing's
temperature, a door's closing time). A *usage counter* is a running total measured against a rated life
(running hours, door cycles, burn hours). The histories come from ``TelemetryStore.query`` as windowed
aggregates (hourly means for gauges, hourly maxima for counters); these functions never do I/O.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from core.domain import AssetKind

Series = Sequence[tuple[datetime, float]]
FloatArray = npt.NDArray[np.float64]

SECONDS_PER_DAY = 86_400.0


class Direction(enum.StrEnum):
    """Which way an indicator moves as the part wears."""

    RISING = "rising"
    FALLING = "falling"

    @property
    def sign(self) -> float:
        return 1.0 if self is Direction.RISING else -1.0


@dataclass(frozen=True, slots=True)
class WearIndicator:
    """A gauge that moves from ``baseline`` (as new) towards ``limit`` (worn out) as the part wears."""

    metric: str
    limit: float
    baseline: float
    direction: Direction = Direction.RISING
    source: str = ""

    def __post_init__(self) -> None:
        if self.direction.sign * (self.limit - self.baseline) <= 0:
            raise ValueError(f"{self.metric}: limit must lie {self.direction.value} from the baseline")


@dataclass(frozen=True, slots=True)
class UsageCounter:
    """A running total (a catalogue COUNTER) whose part is rated for ``rated`` units of use."""

    metric: str
    rated: float
    source: str = ""

    def __post_init__(self) -> None:
        if self.rated <= 0:
            raise ValueError(f"{self.metric}: rated life must be positive")


WEAR_INDICATORS: dict[AssetKind, tuple[WearIndicator, ...]] = {
    AssetKind.PUMP: (
        # ISO 10816-3, group 2 machines (15-300 kW) on flexible mounts: zone A (newly commissioned) up to
        # 2.3 mm/s, zone C/D boundary ("damage may occur") at 7.1 mm/s RMS.
        WearIndicator("vibration_mm_s", 7.1, 2.3, source="ISO 10816-3 zone A/B 2.3, C/D 7.1 mm/s"),
        # Rolling bearings: alarm at 85 degC (facmon rule pump_bearing_overtemp); top of the normal range 65.
        WearIndicator("bearing_temp_c", 85.0, 65.0, source="rule pump_bearing_overtemp 85 degC"),
    ),
    AssetKind.ELEVATOR: (
        # A door operator slows as rollers, tracks and the belt wear; facmon's door-fault rule fires above 8 s.
        WearIndicator("door_close_s", 8.0, 4.0, source="rule elevator_door_fault 8 s"),
    ),
    AssetKind.LIGHTING: (
        # LED drivers: the case temperature rating (tc) is typically 85 degC; life halves per ~10 K above.
        WearIndicator("driver_temp_c", 85.0, 65.0, source="LED driver tc rating 85 degC"),
    ),
}

USAGE_COUNTERS: dict[AssetKind, tuple[UsageCounter, ...]] = {
    AssetKind.PUMP: (UsageCounter("run_hours", 40_000.0, source="bearing L10-style rated life 40,000 h"),),
    AssetKind.ELEVATOR: (UsageCounter("door_cycles", 2_000_000.0, source="door operator life 2,000,000 cycles"),),
    AssetKind.LIGHTING: (UsageCounter("burn_hours", 50_000.0, source="LED L70 rated life 50,000 h"),),
}


# Health-only indicators on the daily features (predictor/telemetry_features.py names): they pull health down
# and name a driver, but have no trend-to-limit RUL of their own. Limits marked "assumption" are ours.
CONDITION_INDICATORS: dict[AssetKind, tuple[WearIndicator, ...]] = {
    AssetKind.PUMP: (
        WearIndicator("efficiency.drift_pct", -15.0, 0.0, Direction.FALLING,
                      source="assumption: 15 % efficiency loss is the usual overhaul point"),
        WearIndicator("starts.per_hour", 6.0, 1.0, source="assumption: ~6 starts/h for a 7.5 kW motor"),
        WearIndicator("dry_run.hours", 1.0, 0.0, source="assumption: a mechanical seal survives < 1 h dry"),
    ),
    AssetKind.ELEVATOR: (
        WearIndicator("door_reopenings.mean", 3.0, 0.2, source="catalogue normal range top, 3 per report"),
        WearIndicator("motor_current_a.max", 60.0, 45.0, source="catalogue normal range top, 60 A"),
        WearIndicator("leveling_error_mm.abs_max", 20.0, 5.0, source="EN 81-20 levelling accuracy 20 mm"),
    ),
    AssetKind.LIGHTING: (
        WearIndicator("failed_lamps.max", 1.0, 0.0, source="any failed lamp"),
        WearIndicator("lumen_output_pct.mean", 70.0, 100.0, Direction.FALLING, source="L70 (IES LM-80/TM-21)"),
    ),
}


@dataclass(frozen=True, slots=True)
class GaugeFeatures:
    """A gauge's history as a trend table: ``t_days`` (time relative to ``at``, <= 0) and ``values``."""

    metric: str
    current: float  # the newest aggregate
    t_days: FloatArray  # shape (n, 1): the estimator's X
    values: FloatArray  # shape (n,): the estimator's y

    @property
    def n_points(self) -> int:
        return len(self.values)


@dataclass(frozen=True, slots=True)
class CounterFeatures:
    """A counter's newest value and its recent rate of use per day (None when it did not move measurably)."""

    metric: str
    current: float
    rate_per_day: float | None


def days_before(at: datetime, times: Sequence[datetime]) -> FloatArray:
    """Each time as (fractional) days relative to ``at``: negative in the past, 0 at ``at``."""
    return np.array([(t - at).total_seconds() / SECONDS_PER_DAY for t in times], dtype=np.float64)


def gauge_features(metric: str, series: Series, at: datetime,
                   window: timedelta | None = None) -> GaugeFeatures | None:
    """The trend table of a gauge; None if the series is empty.

    Windowed aggregates are stamped with their window's start; they are moved to the window's middle
    (never past ``at``), so the trend's value at ``at`` is not biased by half a window of drift.
    """
    if not series:
        return None
    shift = window / 2 if window is not None else timedelta(0)
    times = [min(t + shift, at) for t, _ in series]
    values = np.array([v for _, v in series], dtype=np.float64)
    return GaugeFeatures(metric, float(values[-1]), days_before(at, times).reshape(-1, 1), values)


def counter_features(metric: str, series: Series) -> CounterFeatures | None:
    """A counter's current value and rate of use per day over the series; None if the series is empty.

    Decreases (a device reset or a replaced controller) are not counted as negative use: the rate sums only
    the increases between consecutive points.
    """
    if not series:
        return None
    current = float(series[-1][1])
    span_days = (series[-1][0] - series[0][0]).total_seconds() / SECONDS_PER_DAY
    values = np.array([v for _, v in series], dtype=np.float64)
    used = float(np.clip(np.diff(values), 0.0, None).sum())
    rate = used / span_days if span_days > 0 and used > 0 else None
    return CounterFeatures(metric, current, rate)
