"""Daily feature tables per asset kind, computed from the telemetry store's windowed aggregates.

Every query asks the store for daily or hourly aggregates (``TelemetryStore.query(..., window=, agg=)``), so
the aggregation runs in InfluxDB or SQLite and raw history never enters memory. The table has one row per UTC
day with data and the named columns of ``FEATURE_NAMES[kind]``; the learned RUL model trains and predicts on
exactly these rows. Usage counters become ``Meter``s (value and rate per day) so PM can trigger on usage.

Assumptions, stated once: pumps report no ambient temperature in the catalogue, so bearing temperature above
ambient uses 20 degC unless the asset reports ``ambient_temp_c``. Pump efficiency is hydraulic power
(flow x (discharge - suction)) over electrical power per running hour, compared with the pump's own
efficiency-over-flow curve fitted to the first ``BASELINE_DAYS`` days of the span read.

A day's row is complete only once the day is over: callers that want whole days pass a ``until`` at midnight
(``whole_days_until``); the predictor service does, so a partial day never looks like a drop in use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

import numpy as np
import numpy.typing as npt

from core.domain import Asset, AssetKind
from storage.telemetry import Aggregation, TelemetryStore

FloatArray = npt.NDArray[np.float64]
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
ASSUMED_AMBIENT_C = 20.0
BASELINE_DAYS = 7
TREND_DAYS = 7
RUNNING_KW = 0.5  # an hour whose mean power is above this had the motor running
DRY_FLOW_M3H = 2.0  # running with less flow than this, or ...
DRY_SUCTION_BAR = 0.2  # ... with the inlet near empty, is a dry-run hour

FEATURE_NAMES: dict[AssetKind, tuple[str, ...]] = {
    AssetKind.PUMP: ("vibration_mm_s.mean", "vibration_mm_s.trend_per_week", "bearing_temp_c.mean",
                     "bearing_temp_c.above_ambient", "efficiency.drift_pct", "run_hours.value",
                     "run_hours.per_day", "starts.per_hour", "dry_run.hours"),
    AssetKind.ELEVATOR: ("door_close_s.mean", "door_close_s.trend_per_week", "door_reopenings.mean",
                         "motor_current_a.max", "leveling_error_mm.abs_max", "trips.per_day",
                         "door_cycles.value", "door_cycles.per_day"),
    AssetKind.LIGHTING: ("driver_temp_c.max", "driver_temp_c.trend_per_week", "burn_hours.value",
                         "burn_hours.per_day", "switch_cycles.per_day", "failed_lamps.max",
                         "lumen_output_pct.mean"),
}

# The usage counter each kind's life is counted in, with its unit (the forecast's ``usage_unit``).
USAGE_METERS: dict[AssetKind, tuple[str, str]] = {
    AssetKind.PUMP: ("run_hours", "h"),
    AssetKind.ELEVATOR: ("door_cycles", "cycles"),
    AssetKind.LIGHTING: ("burn_hours", "h"),
}
METERS: dict[AssetKind, tuple[tuple[str, str], ...]] = {kind: (meter,) for kind, meter in USAGE_METERS.items()}

Daily = dict[date, float]


@dataclass(frozen=True, slots=True)
class DailyFeatures:
    """Rows = UTC days with data (ascending), columns = ``names``; NaN where a metric was never reported."""

    kind: AssetKind
    days: tuple[date, ...]
    names: tuple[str, ...]
    values: FloatArray  # shape (len(days), len(names))

    def column(self, name: str) -> FloatArray:
        return self.values[:, self.names.index(name)]

    def latest(self) -> dict[str, float]:
        """The newest row as {name: value}; empty when the table is."""
        return {} if not self.days else dict(zip(self.names, (float(v) for v in self.values[-1]), strict=True))


@dataclass(frozen=True, slots=True)
class Meter:
    """A usage counter: its newest value and its mean rate of use per day over the table (None: no data)."""

    metric: str
    unit: str
    value: float
    rate_per_day: float | None


def daily_features(store: TelemetryStore, asset: Asset, since: datetime, until: datetime) -> DailyFeatures:
    """The asset's daily feature table over ``[since, until)``."""
    reader = _Reader(store, asset.id, since, until)
    columns = _COLUMNS[asset.kind](reader)
    return build_table(asset.kind, columns)


def whole_days_until(at: datetime) -> datetime:
    """Midnight UTC at or before ``at``: the end of the last whole day."""
    return at.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def meters(table: DailyFeatures) -> tuple[Meter, ...]:
    """The kind's usage meters from a daily table: newest value and mean daily rate over the table."""
    out = []
    for metric, unit in METERS[table.kind]:
        values = table.column(f"{metric}.value")
        rates = table.column(f"{metric}.per_day")
        if not np.isfinite(values).any():
            continue
        rate = float(np.nanmean(rates)) if np.isfinite(rates).any() else None
        out.append(Meter(metric, unit, float(values[np.isfinite(values)][-1]), rate))
    return tuple(out)


def usage_meter(table: DailyFeatures) -> Meter | None:
    """The meter the kind's life is counted in (run hours, door cycles, burn hours), if it reported."""
    metric = USAGE_METERS[table.kind][0]
    return next((m for m in meters(table) if m.metric == metric), None)


def build_table(kind: AssetKind, columns: dict[str, Daily]) -> DailyFeatures:
    """The pure core: named daily columns to a table, gaps filled forward then backward, trends added."""
    names = FEATURE_NAMES[kind]
    days = sorted({day for column in columns.values() for day in column})
    values = np.full((len(days), len(names)), np.nan)
    for j, name in enumerate(names):
        column = columns.get(name, {})
        values[:, j] = _filled([column.get(day, np.nan) for day in days])
    table = DailyFeatures(kind, tuple(days), names, values)
    for j, name in enumerate(names):
        if name.endswith(".trend_per_week"):
            values[:, j] = _trend_per_week(table.column(name.replace(".trend_per_week", _TREND_OF[kind])))
    return table


_TREND_OF = {AssetKind.PUMP: ".mean", AssetKind.ELEVATOR: ".mean", AssetKind.LIGHTING: ".max"}


class _Reader:
    """Daily and hourly aggregates of one asset's metrics over a fixed span, keyed by UTC day / hour start."""

    def __init__(self, store: TelemetryStore, asset_id: str, since: datetime, until: datetime) -> None:
        self.store, self.asset_id, self.since, self.until = store, asset_id, since, until

    def daily(self, metric: str, agg: Aggregation) -> Daily:
        points = self.store.query(self.asset_id, metric, self.since, self.until, window=DAY, agg=agg)
        return {at.astimezone(UTC).date(): value for at, value in points}

    def hourly(self, metric: str, agg: Aggregation = "mean") -> dict[datetime, float]:
        return dict(self.store.query(self.asset_id, metric, self.since, self.until, window=HOUR, agg=agg))

    def counter(self, metric: str) -> tuple[Daily, Daily]:
        """(daily last value, daily increase); the increase of a day is against the previous day with data,
        negative steps (a device reset) counted as zero use."""
        last = self.daily(metric, "last")
        days = sorted(last)
        increase = {day: max(last[day] - last[prev], 0.0) / max((day - prev).days, 1)
                    for prev, day in pairwise(days)}
        return last, increase


def _pump(reader: _Reader) -> dict[str, Daily]:
    ambient = reader.daily("ambient_temp_c", "mean")
    bearing = reader.daily("bearing_temp_c", "mean")
    run_hours, run_per_day = reader.counter("run_hours")
    _, starts_per_day = reader.counter("starts")
    efficiency, dry = _pump_hours(reader)
    return {
        "vibration_mm_s.mean": reader.daily("vibration_mm_s", "mean"),
        "bearing_temp_c.mean": bearing,
        "bearing_temp_c.above_ambient": {d: t - ambient.get(d, ASSUMED_AMBIENT_C) for d, t in bearing.items()},
        "efficiency.drift_pct": efficiency,
        "run_hours.value": run_hours,
        "run_hours.per_day": run_per_day,
        "starts.per_hour": {d: n / 24.0 for d, n in starts_per_day.items()},
        "dry_run.hours": dry,
    }


def _pump_hours(reader: _Reader) -> tuple[Daily, Daily]:
    """Per day: efficiency drift (%) from the pump's own early curve over the running hours, dry-run hours."""
    flow, discharge = reader.hourly("flow_m3h"), reader.hourly("discharge_bar")
    suction, power = reader.hourly("suction_bar"), reader.hourly("power_kw")
    points: list[tuple[date, float, float]] = []  # (day, flow, efficiency) of the running, wet hours
    dry: Daily = {}
    for hour, kw in power.items():
        day = hour.astimezone(UTC).date()
        dry.setdefault(day, 0.0)
        if kw <= RUNNING_KW or hour not in flow or hour not in suction:
            continue
        if flow[hour] < DRY_FLOW_M3H or suction[hour] < DRY_SUCTION_BAR:
            dry[day] += 1.0
        elif hour in discharge:
            hydraulic_kw = flow[hour] / 3600 * (discharge[hour] - suction[hour]) * 100  # m3/s x kPa
            points.append((day, flow[hour], hydraulic_kw / kw))
    return _efficiency_drift(points), dry


def _efficiency_drift(points: list[tuple[date, float, float]]) -> Daily:
    """Mean per day of efficiency / expected efficiency - 1, in percent (negative = worse than when new).

    Efficiency depends on the operating point, so the expected value comes from the pump's own curve:
    a quadratic efficiency-over-flow fit to the hours of its first BASELINE_DAYS days (a constant when
    those hours span too little flow for a curve).
    """
    if not points:
        return {}
    first = points[0][0]
    early = np.array([(q, e) for day, q, e in points if (day - first).days < BASELINE_DAYS])
    degree = 2 if len(early) >= 12 and np.ptp(early[:, 0]) > 1.0 else 0
    curve = np.polyfit(early[:, 0], early[:, 1], degree)
    drift: dict[date, list[float]] = {}
    for day, q, e in points:
        expected = float(np.polyval(curve, q))
        if expected > 0:
            drift.setdefault(day, []).append(100.0 * (e / expected - 1.0))
    return {day: float(np.mean(values)) for day, values in drift.items()}


def _elevator(reader: _Reader) -> dict[str, Daily]:
    low, high = reader.daily("leveling_error_mm", "min"), reader.daily("leveling_error_mm", "max")
    door_cycles, cycles_per_day = reader.counter("door_cycles")
    _, trips_per_day = reader.counter("trips")
    return {
        "door_close_s.mean": reader.daily("door_close_s", "mean"),
        "door_reopenings.mean": reader.daily("door_reopenings", "mean"),
        # The daily peak of the hoist current is the current of its heaviest trip: a dragging brake raises it.
        "motor_current_a.max": reader.daily("motor_current_a", "max"),
        "leveling_error_mm.abs_max": {d: max(abs(low[d]), abs(high.get(d, 0.0))) for d in low},
        "trips.per_day": trips_per_day,
        "door_cycles.value": door_cycles,
        "door_cycles.per_day": cycles_per_day,
    }


def _lighting(reader: _Reader) -> dict[str, Daily]:
    burn_hours, burn_per_day = reader.counter("burn_hours")
    _, switches_per_day = reader.counter("switch_cycles")
    return {
        # The daily maximum is the driver's temperature while lit (the mean would mix in the hours off).
        "driver_temp_c.max": reader.daily("driver_temp_c", "max"),
        "burn_hours.value": burn_hours,
        "burn_hours.per_day": burn_per_day,
        "switch_cycles.per_day": switches_per_day,
        "failed_lamps.max": reader.daily("failed_lamps", "max"),
        # Only where a light sensor measures the luminaire's own output (not in the catalogue; NaN otherwise).
        "lumen_output_pct.mean": reader.daily("lumen_output_pct", "mean"),
    }


_COLUMNS: dict[AssetKind, Callable[[_Reader], dict[str, Daily]]] = {
    AssetKind.PUMP: _pump, AssetKind.ELEVATOR: _elevator, AssetKind.LIGHTING: _lighting}


def _filled(column: list[float]) -> FloatArray:
    """Forward-fill gaps, then back-fill the leading ones; a column never reported stays NaN."""
    values = np.array(column, dtype=np.float64)
    last = np.nan
    for i, value in enumerate(values):
        last = value if np.isfinite(value) else last
        values[i] = last
    finite = np.flatnonzero(np.isfinite(values))
    if finite.size:
        values[: finite[0]] = values[finite[0]]
    return values


def _trend_per_week(column: FloatArray) -> FloatArray:
    """Least-squares slope of the trailing TREND_DAYS rows, per week (0 with fewer than 3 rows)."""
    out = np.zeros(len(column))
    for i in range(len(column)):
        window = column[max(0, i - TREND_DAYS + 1): i + 1]
        if len(window) >= 3 and np.isfinite(window).all():
            out[i] = 7.0 * float(np.polyfit(np.arange(len(window), dtype=np.float64), window, 1)[0])
    return out
