"""Tests for predictor.telemetry_features: the store's aggregates give the features the raw series give."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import httpx
import numpy as np
import pandas as pd
import pytest

from core.domain import Asset, AssetKind, Reading
from predictor.telemetry_features import (
    ASSUMED_AMBIENT_C,
    FEATURE_NAMES,
    build_table,
    daily_features,
    meters,
    usage_meter,
    whole_days_until,
)
from storage.influx_telemetry import InfluxTelemetryStore
from storage.sqlite_telemetry import SqliteTelemetryStore
from storage.telemetry import TelemetryStore
from tests.predictor.simulated import simulate_into
from tests.services import InfluxDB

START = datetime(2026, 3, 2, tzinfo=UTC)
DAYS = 6
STEP = timedelta(minutes=20)
PUMP = Asset("pump-f", "site-f", AssetKind.PUMP, "pump", attributes={"usage": "residential", "initial_wear": 0.3})
LIFT = Asset("lift-f", "site-f", AssetKind.ELEVATOR, "lift", attributes={"initial_wear": 0.3})
LIGHT = Asset("light-f", "site-f", AssetKind.LIGHTING, "light", attributes={"initial_wear": 0.3})
UNTIL = START + timedelta(days=DAYS + 1)


def raw_frame(readings: list[Reading]) -> pd.DataFrame:
    """The raw series as a frame indexed by time, booleans as 0/1: the reference the store must match."""
    frame = pd.DataFrame([{**r.metrics} for r in readings], index=pd.DatetimeIndex([r.at for r in readings]))
    return frame.astype(float)


def daily(frame: pd.DataFrame, column: str, how: str) -> np.ndarray:
    return frame[column].resample("1D").agg(how).dropna().to_numpy()


def increase_per_day(frame: pd.DataFrame, column: str) -> np.ndarray:
    last = daily(frame, column, "last")
    return np.clip(np.diff(last), 0, None)


def reference_pump(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    hourly = frame.resample("1h").mean()
    running = hourly[hourly.power_kw > 0.5]
    dry = running[(running.flow_m3h < 2.0) | (running.suction_bar < 0.2)]
    return {
        "vibration_mm_s.mean": daily(frame, "vibration_mm_s", "mean"),
        "bearing_temp_c.above_ambient": daily(frame, "bearing_temp_c", "mean") - ASSUMED_AMBIENT_C,
        "run_hours.value": daily(frame, "run_hours", "last"),
        "run_hours.per_day": increase_per_day(frame, "run_hours"),
        "starts.per_hour": increase_per_day(frame, "starts") / 24,
        "dry_run.hours": dry.resample("1D").size().reindex(hourly.resample("1D").size().index, fill_value=0)
        .to_numpy(dtype=float),
    }


def assert_matches(table_column: np.ndarray, expected: np.ndarray, skip_first: bool = False) -> None:
    got = table_column[1:] if skip_first else table_column
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)


def check_pump(store: TelemetryStore) -> None:
    run = simulate_into(store, PUMP, 5, START, DAYS, STEP, fault="dry_running",
                        fault_from=START + timedelta(days=3, hours=2), fault_until=START + timedelta(days=3, hours=5))
    table = daily_features(store, PUMP, START, UNTIL)
    reference = reference_pump(raw_frame(run.readings))
    assert table.names == FEATURE_NAMES[AssetKind.PUMP]
    assert len(table.days) == DAYS + 1
    for name in ("vibration_mm_s.mean", "bearing_temp_c.above_ambient", "run_hours.value", "dry_run.hours"):
        assert_matches(table.column(name), reference[name])
    for name in ("run_hours.per_day", "starts.per_hour"):  # the first day has no previous one: back-filled
        assert_matches(table.column(name), reference[name], skip_first=True)
    assert table.column("dry_run.hours")[3] == 3.0  # the three hours of the injected dry run
    assert abs(table.column("efficiency.drift_pct")[1:3]).max() < 2.0  # a healthy pump keeps to its curve


def test_pump_features_from_sqlite_equal_the_raw_series() -> None:
    store = SqliteTelemetryStore(":memory:")  # type: ignore[arg-type]
    check_pump(store)


@pytest.mark.integration
def test_pump_features_from_influxdb_equal_the_raw_series(influxdb: InfluxDB) -> None:
    database = f"t_{secrets.token_hex(6)}"
    store = InfluxTelemetryStore(influxdb.url, database, batch_lines=5000)
    try:
        check_pump(store)
    finally:
        store.close()
        httpx.post(f"{influxdb.url}/query", data={"q": f'DROP DATABASE "{database}"'}, timeout=10)


def test_elevator_and_lighting_features_from_sqlite_equal_the_raw_series() -> None:
    store = SqliteTelemetryStore(":memory:")  # type: ignore[arg-type]
    lift = raw_frame(simulate_into(store, LIFT, 5, START, DAYS, STEP).readings)
    light = raw_frame(simulate_into(store, LIGHT, 5, START, DAYS, STEP).readings)
    lifts = daily_features(store, LIFT, START, UNTIL)
    assert_matches(lifts.column("door_close_s.mean"), daily(lift, "door_close_s", "mean"))
    assert_matches(lifts.column("motor_current_a.max"), daily(lift, "motor_current_a", "max"))
    leveling = np.maximum(abs(daily(lift, "leveling_error_mm", "min")), abs(daily(lift, "leveling_error_mm", "max")))
    assert_matches(lifts.column("leveling_error_mm.abs_max"), leveling)
    assert_matches(lifts.column("trips.per_day"), increase_per_day(lift, "trips"), skip_first=True)
    lights = daily_features(store, LIGHT, START, UNTIL)
    assert_matches(lights.column("driver_temp_c.max"), daily(light, "driver_temp_c", "max"))
    assert_matches(lights.column("burn_hours.value"), daily(light, "burn_hours", "last"))
    assert np.isnan(lights.column("lumen_output_pct.mean")).all()  # no light sensor on the luminaire


def test_meters_give_the_usage_counter_and_its_rate_per_day() -> None:
    store = SqliteTelemetryStore(":memory:")  # type: ignore[arg-type]
    run = simulate_into(store, PUMP, 5, START, DAYS, timedelta(hours=1))
    table = daily_features(store, PUMP, START, whole_days_until(run.end))
    meter = usage_meter(table)
    assert meter is not None
    assert meter.unit == "h"
    assert meters(table) == (meter,)
    assert meter.value == pytest.approx(float(run.readings[-2].metrics["run_hours"]), abs=1.0)
    assert meter.rate_per_day == pytest.approx(24.0, abs=0.01)  # a duty pump runs around the clock


def test_build_table_fills_gaps_and_computes_trends_per_week() -> None:
    days = [START.date() + timedelta(days=i) for i in range(10)]
    vibration = {day: 2.0 + 0.1 * i for i, day in enumerate(days) if i != 1}  # day 1 missing
    bearing = dict.fromkeys(days, 50.0)
    table = build_table(AssetKind.PUMP, {"vibration_mm_s.mean": vibration, "bearing_temp_c.mean": bearing})
    assert table.column("vibration_mm_s.mean")[1] == pytest.approx(2.0)  # forward-filled from day 0
    assert table.column("vibration_mm_s.trend_per_week")[-1] == pytest.approx(0.7, abs=0.01)
    assert np.isnan(table.column("run_hours.value")).all()  # never reported: NaN


def test_whole_days_until_is_the_last_midnight() -> None:
    assert whole_days_until(START + timedelta(days=2, hours=5)) == START + timedelta(days=2)

