"""The default pack: each rule fires on its fault signature (from the team contract), healthy data stays quiet."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain import AssetKind, MetricValue, Reading, Severity, WorkOrderKind, WorkOrderPriority
from rules.engine import RuleEngine, TransitionKind
from rules.model import Scope
from rules.pack import default_rules

T0 = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)
INTERVAL = {AssetKind.PUMP: 60, AssetKind.ELEVATOR: 60, AssetKind.LIGHTING: 300}

PUMP_OK: dict[str, MetricValue] = {
    "flow_m3h": 30.0, "discharge_bar": 4.5, "suction_bar": 1.0, "vibration_mm_s": 1.5, "bearing_temp_c": 50.0,
    "running": True, "mains_ok": True}
ELEVATOR_OK: dict[str, MetricValue] = {
    "door_close_s": 3.0, "door_reopenings": 1.0, "in_service": True, "alarm_button": False,
    "occupied": True, "leveling_error_mm": 2.0, "mains_ok": True}
LIGHTING_OK: dict[str, MetricValue] = {
    "on": True, "power_w": 800.0, "current_a": 3.5, "driver_temp_c": 50.0, "failed_lamps": 0.0,
    "voltage_v": 230.0, "mains_ok": True}


def stream(kind: AssetKind, start_s: int, count: int, **metrics: MetricValue) -> Iterator[Reading]:
    for i in range(count):
        at = T0 + timedelta(seconds=start_s + i * INTERVAL[kind])
        yield Reading("s1", kind, "a1", at, dict(metrics))


def fired(readings: list[Reading]) -> list[tuple[str, TransitionKind, datetime]]:
    engine = RuleEngine(default_rules())
    return [(rule.id, t.kind, t.at) for reading in readings for rule, _, t in engine.evaluate(reading)]


VIBRATION = "pump_vibration_g2_rigid"


def test_the_default_pack_covers_the_contract_and_issue_4() -> None:
    rules = {rule.id: rule for rule in default_rules()}
    assert {"pump_burst_pipe", "pump_dry_running", "pump_cavitation", "elevator_entrapment",
            "elevator_door_fault", "elevator_motor_overcurrent", "elevator_leveling_error",
            "elevator_out_of_service", "lighting_circuit_failure", "lighting_driver_overtemp",
            "lighting_on_in_daylight", "lighting_off_at_night", "device_offline", "mains_lost",
            "site_power_cut", f"{VIBRATION}.high_warning", f"{VIBRATION}.high_action",
            "pump_bearing_temp.high_warning", "pump_bearing_temp.high_action"} <= set(rules)
    assert rules["pump_burst_pipe"].severity is Severity.CRITICAL
    action = rules["pump_burst_pipe"].work_order
    assert action is not None
    assert (action.kind, action.priority) == (WorkOrderKind.EMERGENCY, WorkOrderPriority.EMERGENCY)
    assert rules["mains_lost"].applies_to == set(AssetKind)
    assert rules["site_power_cut"].scope is Scope.SITE
    assert rules["mains_lost"].suppressed_by == {"site_power_cut"}
    assert rules[f"{VIBRATION}.high_warning"].work_order is None  # only action limits open work orders
    assert rules[f"{VIBRATION}.high_action"].work_order is not None
    assert rules["device_offline"].judges_absence
    assert not rules["pump_burst_pipe"].judges_absence
    assert default_rules() is not default_rules()  # callers may change their list


@pytest.mark.parametrize(("attributes", "group"), [
    ({}, "g2_rigid"), ({"rated_kw": 7.5}, "g2_rigid"), ({"rated_kw": 11, "mounting": "rigid"}, "g2_rigid"),
    ({"rated_kw": 90, "mounting": "flexible"}, "g2_flexible"), ({"rated_kw": 400}, "g1_rigid"),
    ({"rated_kw": 400, "mounting": "flexible"}, "g1_flexible")])
def test_one_vibration_zone_table_applies_per_pump_by_size_and_mounting(
        attributes: dict[str, str | float | bool], group: str) -> None:
    applies = {rule.id.split(".")[0] for rule in default_rules()
               if rule.id.startswith("pump_vibration") and rule.applies(attributes)}
    assert applies == {f"pump_vibration_{group}"}


def test_pump_bearing_wear_raises_vibration_and_temperature_alarms() -> None:
    # Over ~4 sim hours vibration climbs to 11 mm/s and the bearing past 90 degC, then the pump is repaired.
    readings = []
    for minute in range(300):
        wear = min(minute / 240, 1.0)
        readings.append(Reading("s1", AssetKind.PUMP, "a1", T0 + timedelta(minutes=minute),
                                {**PUMP_OK, "vibration_mm_s": 1.5 + 9.5 * wear, "bearing_temp_c": 50 + 45 * wear}))
    readings += stream(AssetKind.PUMP, 300 * 60, 30, **PUMP_OK)
    events = fired(readings)
    raised = [rule for rule, kind, _ in events if kind is TransitionKind.RAISE]
    cleared = [rule for rule, kind, _ in events if kind is TransitionKind.CLEAR]
    assert sorted(raised) == sorted(cleared) == sorted([
        f"{VIBRATION}.high_warning", f"{VIBRATION}.high_action",
        "pump_bearing_temp.high_warning", "pump_bearing_temp.high_action"])
    crossed = next(r.at for r in readings if r.metrics["vibration_mm_s"] > 4.5)
    action_at = next(at for rule, kind, at in events if rule == f"{VIBRATION}.high_action")
    assert action_at >= crossed + timedelta(minutes=10)  # the on-delay, on top of the 10-min average


def test_burst_pipe_raises_after_two_minutes_and_clears_when_it_stops() -> None:
    readings = [*stream(AssetKind.PUMP, 0, 10, **PUMP_OK),
                *stream(AssetKind.PUMP, 600, 10, **{**PUMP_OK, "flow_m3h": 62.0, "discharge_bar": 1.2}),
                *stream(AssetKind.PUMP, 1200, 3, **PUMP_OK)]
    assert fired(readings) == [("pump_burst_pipe", TransitionKind.RAISE, T0 + timedelta(seconds=720)),
                               ("pump_burst_pipe", TransitionKind.CLEAR, T0 + timedelta(seconds=1200))]


def test_entrapment_raises_after_one_minute() -> None:
    trapped = {**ELEVATOR_OK, "in_service": False, "occupied": True, "alarm_button": True}
    readings = [*stream(AssetKind.ELEVATOR, 0, 5, **ELEVATOR_OK), *stream(AssetKind.ELEVATOR, 300, 5, **trapped)]
    assert fired(readings) == [("elevator_entrapment", TransitionKind.RAISE, T0 + timedelta(seconds=360))]


def test_door_fault_raises_after_fifteen_minutes_and_clears_when_doors_are_fast_and_calm() -> None:
    faulty = {**ELEVATOR_OK, "door_close_s": 9.5, "door_reopenings": 9.0}
    readings = [*stream(AssetKind.ELEVATOR, 0, 20, **faulty),
                *stream(AssetKind.ELEVATOR, 1200, 3, **{**ELEVATOR_OK, "door_close_s": 6.0}),
                *stream(AssetKind.ELEVATOR, 1380, 40, **ELEVATOR_OK)]
    # Clears once the doors close in under 5 s AND fewer than 2 of the last 30 minutes' reports had
    # 6+ reopenings: the last bad report was at minute 19, so at minute 48 only it is left.
    assert fired(readings) == [("elevator_door_fault", TransitionKind.RAISE, T0 + timedelta(minutes=15)),
                               ("elevator_door_fault", TransitionKind.CLEAR, T0 + timedelta(minutes=48))]


def test_repeated_reopenings_alone_are_a_door_fault() -> None:
    reopening = {**ELEVATOR_OK, "door_reopenings": 7.0}
    calm = dict(ELEVATOR_OK)
    readings = [Reading("s1", AssetKind.ELEVATOR, "a1", T0 + timedelta(minutes=m),
                        reopening if m % 4 == 0 else calm) for m in range(60)]
    events = fired(readings)
    # The 5th reopening report is at minute 16; the condition then holds for the 15-minute on-delay.
    assert events == [("elevator_door_fault", TransitionKind.RAISE, T0 + timedelta(minutes=31))]


def test_circuit_failure_raises_while_scheduled_on() -> None:
    failed = {**LIGHTING_OK, "power_w": 2.0, "current_a": 0.01, "failed_lamps": 4.0}
    readings = list(stream(AssetKind.LIGHTING, 0, 6, **failed))  # every 5 minutes
    assert fired(readings) == [("lighting_circuit_failure", TransitionKind.RAISE, T0 + timedelta(minutes=10))]


def test_driver_overtemperature_raises_and_clears_below_75() -> None:
    readings = [*stream(AssetKind.LIGHTING, 0, 4, **{**LIGHTING_OK, "driver_temp_c": 95.0}),
                *stream(AssetKind.LIGHTING, 1200, 1, **{**LIGHTING_OK, "driver_temp_c": 80.0}),
                *stream(AssetKind.LIGHTING, 1500, 1, **{**LIGHTING_OK, "driver_temp_c": 70.0})]
    assert fired(readings) == [("lighting_driver_overtemp", TransitionKind.RAISE, T0 + timedelta(minutes=10)),
                               ("lighting_driver_overtemp", TransitionKind.CLEAR, T0 + timedelta(minutes=25))]


def test_a_lone_asset_without_mains_is_also_its_sites_power_cut() -> None:
    cut = {AssetKind.PUMP: {**PUMP_OK, "mains_ok": False, "running": False, "flow_m3h": 0.0,
                            "discharge_bar": 0.0, "vibration_mm_s": 0.0},
           AssetKind.ELEVATOR: {**ELEVATOR_OK, "mains_ok": False, "in_service": False, "occupied": False},
           AssetKind.LIGHTING: {**LIGHTING_OK, "mains_ok": False, "on": False, "power_w": 0.0,
                                "current_a": 0.0, "voltage_v": 0.0}}
    for kind, metrics in cut.items():
        events = fired(list(stream(kind, 0, 11, **metrics)))
        expected_at = T0 + timedelta(seconds=INTERVAL[kind] * (2 if kind is AssetKind.LIGHTING else 10))
        assert events[0] == ("site_power_cut", TransitionKind.RAISE, T0), kind  # 1 of 1 assets
        assert ("mains_lost", TransitionKind.RAISE, expected_at) in events, kind


# --- healthy machines stay quiet ---------------------------------------------------------------

def _healthy_pump() -> st.SearchStrategy[dict[str, MetricValue]]:
    duty = st.fixed_dictionaries({
        "flow_m3h": st.floats(15, 40), "discharge_bar": st.floats(3.5, 6.0), "suction_bar": st.floats(0.5, 2.0),
        "vibration_mm_s": st.floats(0.5, 2.5), "bearing_temp_c": st.floats(30, 65),
        "running": st.just(True), "mains_ok": st.just(True)})
    standby = st.fixed_dictionaries({
        "flow_m3h": st.just(0.0), "discharge_bar": st.floats(3.5, 6.0), "vibration_mm_s": st.floats(0.2, 0.4),
        "bearing_temp_c": st.floats(15, 40), "running": st.just(False), "mains_ok": st.just(True)})
    return duty | standby


def _healthy_elevator() -> st.SearchStrategy[dict[str, MetricValue]]:
    return st.fixed_dictionaries({
        "door_close_s": st.floats(2.5, 4.0), "door_reopenings": st.integers(0, 2).map(float),
        "in_service": st.just(True), "alarm_button": st.just(False), "occupied": st.booleans(),
        "leveling_error_mm": st.floats(-7.9, 7.9), "mains_ok": st.just(True)})


def _healthy_lighting() -> st.SearchStrategy[dict[str, MetricValue]]:
    on = st.fixed_dictionaries({
        "on": st.just(True), "power_w": st.floats(200, 1500), "driver_temp_c": st.floats(25, 65),
        "failed_lamps": st.just(0.0), "voltage_v": st.floats(220, 240), "mains_ok": st.just(True)})
    return on  # T0 is midnight: healthy circuits are on at night (off at night is an alarm)


@settings(max_examples=40, deadline=None)
@given(st.lists(_healthy_pump(), min_size=1, max_size=120), st.lists(_healthy_elevator(), max_size=120),
       st.lists(_healthy_lighting(), max_size=60))
def test_healthy_assets_raise_nothing(pumps: list[dict[str, MetricValue]],
                                      elevators: list[dict[str, MetricValue]],
                                      lights: list[dict[str, MetricValue]]) -> None:
    readings = []
    for kind, series in ((AssetKind.PUMP, pumps), (AssetKind.ELEVATOR, elevators), (AssetKind.LIGHTING, lights)):
        readings += [Reading("s1", kind, kind.value, T0 + timedelta(seconds=i * INTERVAL[kind]), metrics)
                     for i, metrics in enumerate(series)]
    readings.sort(key=lambda r: r.at)
    assert fired(readings) == []


# --- rules the simulators have no fault for: crafted signatures ---------------------------------

@pytest.mark.parametrize(("kind", "base", "fault", "start_s", "count", "rule_id", "raised_after_s"), [
    (AssetKind.PUMP, PUMP_OK, {"flow_m3h": 0.5, "suction_bar": 0.1}, 0, 10, "pump_dry_running", 60),
    (AssetKind.PUMP, PUMP_OK, {"suction_bar": 0.25}, 0, 15, "pump_cavitation", 360),  # swings from minute 1
    (AssetKind.ELEVATOR, ELEVATOR_OK, {"motor_current_a": 75.0}, 0, 10, "elevator_motor_overcurrent", 60),
    (AssetKind.ELEVATOR, ELEVATOR_OK, {"leveling_error_mm": -25.0}, 0, 10, "elevator_leveling_error", 120),
    (AssetKind.ELEVATOR, ELEVATOR_OK, {"in_service": False, "occupied": False}, 0, 20,
     "elevator_out_of_service", 900),
    (AssetKind.LIGHTING, LIGHTING_OK, {}, 10 * 3600, 10, "lighting_on_in_daylight", 1800),
    (AssetKind.LIGHTING, LIGHTING_OK, {"on": False, "power_w": 0.3, "current_a": 0.0}, 0, 10,
     "lighting_off_at_night", 1800),
])
def test_each_crafted_fault_raises_exactly_its_rule(kind: AssetKind, base: dict[str, MetricValue],
                                                    fault: dict[str, MetricValue], start_s: int, count: int,
                                                    rule_id: str, raised_after_s: int) -> None:
    readings = list(stream(kind, start_s, count, **{**base, **fault}))
    if rule_id == "pump_cavitation":  # its sign here: the discharge pressure swinging by 1.5 bar
        readings = [Reading(r.site_id, r.kind, r.asset_id, r.at,
                            {**r.metrics, "discharge_bar": 3.5 if i % 2 else 5.0}) for i, r in enumerate(readings)]
    assert fired(readings) == [(rule_id, TransitionKind.RAISE, T0 + timedelta(seconds=start_s + raised_after_s))]
