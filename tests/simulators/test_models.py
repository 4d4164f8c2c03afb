"""Healthy device models: a simulated week inside the contract's and the catalogue's normal ranges."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from functools import cache

import pytest

from core.catalogue import CATALOGUE, MetricType
from core.domain import AssetKind
from simulators.device import Metrics, unit_rng
from simulators.lighting import is_scheduled_on
from simulators.portfolio import default_portfolio
from simulators.scenario import DEMO_START
from tests.simulators.helpers import MONDAY, asset, run_model

WEEK = timedelta(days=7)
# Counters that a healthy unit in service advances every week (a pump that never stops adds no starts).
USED_EVERY_WEEK = {AssetKind.ELEVATOR: {"trips", "door_cycles"}, AssetKind.PUMP: {"run_hours"},
                   AssetKind.LIGHTING: {"burn_hours", "switch_cycles"}}


@cache
def healthy_week() -> dict[str, list[tuple[datetime, Metrics]]]:
    """Every asset of the default portfolio over a week from the demo start, at its report interval."""
    return {unit.id: run_model(unit, 0, DEMO_START, DEMO_START + WEEK) for unit in default_portfolio().assets}


def reports(kind: AssetKind, role: str | None = None) -> list[tuple[str, datetime, Metrics]]:
    units = {unit.id: unit for unit in default_portfolio().assets}
    return [(asset_id, at, metrics) for asset_id, series in healthy_week().items() for at, metrics in series
            if units[asset_id].kind is kind and (role is None or units[asset_id].attributes.get("role") == role)]


def test_every_report_has_exactly_the_catalogue_metrics_with_their_types() -> None:
    for unit in default_portfolio().assets:
        for _, metrics in healthy_week()[unit.id][:50]:
            specs = CATALOGUE[unit.kind]
            assert set(metrics) == set(specs)
            for name, value in metrics.items():
                assert isinstance(value, bool) == (specs[name].type is MetricType.FLAG), name
                assert specs[name].is_plausible(float(value))


def test_healthy_week_stays_inside_the_catalogue_normal_ranges() -> None:
    for unit in default_portfolio().assets:
        for at, metrics in healthy_week()[unit.id]:
            for name, value in metrics.items():
                low, high = CATALOGUE[unit.kind][name].normal
                assert low <= float(value) <= high, f"{unit.id} {name}={value} at {at}"


def test_healthy_duty_pumps_run_inside_the_contract_ranges() -> None:
    duty = reports(AssetKind.PUMP, "duty")
    assert len(duty) == 3 * 7 * 24 * 60
    for asset_id, at, m in duty:
        assert m["running"] is True, (asset_id, at)
        assert m["mains_ok"] is True
        assert 15 <= m["flow_m3h"] <= 40
        assert 3.5 <= m["discharge_bar"] <= 6.0
        assert 0.5 <= m["suction_bar"] <= 2.0
        assert 0.5 <= m["vibration_mm_s"] <= 2.5
        assert 30 <= m["bearing_temp_c"] <= 65


def test_standby_pumps_stand_still() -> None:
    for _, _, m in reports(AssetKind.PUMP, "standby"):
        assert m["running"] is False
        assert m["flow_m3h"] == 0
        assert 0.25 <= m["vibration_mm_s"] <= 0.4


def test_healthy_elevators_stay_inside_the_contract_ranges() -> None:
    for asset_id, at, m in reports(AssetKind.ELEVATOR):
        assert 2.5 <= m["door_close_s"] <= 4.0, (asset_id, at)
        assert 0 <= m["door_reopenings"] <= 2
        assert m["in_service"] is True
        assert m["alarm_button"] is False
        assert m["mains_ok"] is True
        assert abs(m["leveling_error_mm"]) < 8


def test_healthy_lighting_follows_the_schedule_inside_the_contract_ranges() -> None:
    for asset_id, at, m in reports(AssetKind.LIGHTING):
        assert m["on"] is is_scheduled_on(at), (asset_id, at)
        assert 220 <= m["voltage_v"] <= 240
        assert m["failed_lamps"] == 0
        if m["on"]:
            assert 200 <= m["power_w"] <= 1500
            if is_scheduled_on(at - timedelta(minutes=15)):  # the driver has warmed up
                assert 25 <= m["driver_temp_c"] <= 65
        else:
            assert m["power_w"] < 1


@pytest.mark.parametrize("kind", list(AssetKind))
def test_counters_only_grow(kind: AssetKind) -> None:
    counters = [name for name, spec in CATALOGUE[kind].items() if spec.type is MetricType.COUNTER]
    units = [unit for unit in default_portfolio().assets if unit.kind is kind]
    for unit in units:
        series = [metrics for _, metrics in healthy_week()[unit.id]]
        for name in counters:
            values = [float(metrics[name]) for metrics in series]
            assert all(b >= a for a, b in itertools.pairwise(values)), (unit.id, name)
            if name in USED_EVERY_WEEK[kind] and unit.attributes.get("role") != "standby":
                assert values[-1] > values[0], (unit.id, name)


def test_elevator_traffic_peaks_in_the_morning_and_evening_not_at_night() -> None:
    series = healthy_week()["riverside-elevator-1"]
    trips_by_hour = [0.0] * 24
    for (_, before), (at, after) in itertools.pairwise(series):
        trips_by_hour[at.hour] += float(after["trips"]) - float(before["trips"])
    assert trips_by_hour[8] > 3 * trips_by_hour[3]
    assert trips_by_hour[19] > 3 * trips_by_hour[3]


def test_office_pump_demand_follows_working_hours() -> None:
    series = healthy_week()["harbour-pump-1"]
    weekday_noon = [float(m["flow_m3h"]) for at, m in series if at.weekday() < 5 and at.hour == 12]
    night = [float(m["flow_m3h"]) for at, m in series if at.hour == 3]
    assert min(weekday_noon) > max(night) + 5


def test_same_seed_gives_the_same_stream_and_another_seed_another() -> None:
    unit = asset(AssetKind.PUMP, role="duty")
    first = run_model(unit, 7, MONDAY, MONDAY + timedelta(hours=6))
    assert run_model(unit, 7, MONDAY, MONDAY + timedelta(hours=6)) == first
    assert run_model(unit, 8, MONDAY, MONDAY + timedelta(hours=6)) != first


def test_unit_generators_do_not_depend_on_python_hash_randomisation() -> None:
    # Fixed by blake2b of (seed, asset id): the same in every process and Python version.
    assert unit_rng(0, "riverside-pump-1").random() == pytest.approx(0.2890757279211349)


def test_units_differ_from_each_other() -> None:
    first = run_model(asset(AssetKind.PUMP, "p1", role="duty"), 0, MONDAY, MONDAY + timedelta(hours=1))
    second = run_model(asset(AssetKind.PUMP, "p2", role="duty"), 0, MONDAY, MONDAY + timedelta(hours=1))
    assert first[-1][1]["vibration_mm_s"] != second[-1][1]["vibration_mm_s"]


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


def average(series: list[tuple[datetime, Metrics]], name: str) -> float:
    return mean([float(metrics[name]) for _, metrics in series])


def test_pump_bearing_wear_raises_vibration_and_bearing_temperature_with_run_hours() -> None:
    series = run_model(asset(AssetKind.PUMP, role="duty"), 0, MONDAY, MONDAY + timedelta(days=120), step_s=3600)
    first, last = series[:24 * 7], series[-24 * 7:]
    assert float(last[-1][1]["run_hours"]) - float(first[0][1]["run_hours"]) == pytest.approx(120 * 24, abs=2)
    assert average(last, "vibration_mm_s") > average(first, "vibration_mm_s") + 0.2
    assert average(last, "bearing_temp_c") > average(first, "bearing_temp_c") + 1


def test_elevator_door_operator_wear_slows_the_doors_with_door_cycles() -> None:
    series = run_model(asset(AssetKind.ELEVATOR), 0, MONDAY, MONDAY + timedelta(days=90), step_s=3600)
    cycles = float(series[-1][1]["door_cycles"]) - float(series[0][1]["door_cycles"])
    assert cycles > 30_000
    first, last = series[:24 * 7], series[-24 * 7:]
    assert average(last, "door_close_s") > average(first, "door_close_s") + 0.1


def test_led_driver_wear_raises_the_driver_temperature_with_burn_hours() -> None:
    series = run_model(asset(AssetKind.LIGHTING, rated_w=800), 0, MONDAY, MONDAY + timedelta(days=365), step_s=1800)

    def lit_temps(part: list[tuple[datetime, Metrics]]) -> list[float]:
        return [float(m["driver_temp_c"]) for at, m in part if m["on"] and 0 <= at.hour < 6]

    assert mean(lit_temps(series[-48 * 7:])) > mean(lit_temps(series[:48 * 7])) + 3
