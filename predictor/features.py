"""Wear indicators per asset kind, with their limits and sources: the only source of limits for health.

A *wear indicator* is a gauge that drifts towards a failure limit as a part wears (vibration, a bearing's
temperature, a door's closing time). A *usage counter* is a running total (running hours, door cycles,
burn hours): a meter, judged against the kind's rated life in ``predictor.priors``. ``CONDITION_INDICATORS``
limit further daily features of ``predictor.telemetry_features`` (named by feature, not metric).
``predictor.health`` reads all three tables.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from core.domain import AssetKind


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
    """A running total (a catalogue COUNTER) that measures a part's use; its rated life is the kind's prior."""

    metric: str


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
    AssetKind.PUMP: (UsageCounter("run_hours"),),
    AssetKind.ELEVATOR: (UsageCounter("door_cycles"),),
    AssetKind.LIGHTING: (UsageCounter("burn_hours"),),
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
