"""The default pack: each rule fires on its fault signature (from the team contract), healthy data stays quiet."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain import AssetKind, MetricValue, Reading, Severity, WorkOrderKind, WorkOrderPriority
from rules.engine import RuleEngine, TransitionKind
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


def test_the_default_pack_is_the_contracts_eight_rules() -> None:
    rules = {rule.id: rule for rule in default_rules()}
    assert set(rules) == {"pump_vibration_high", "pump_bearing_overtemp", "pump_burst_pipe",
                          "elevator_entrapment", "elevator_door_fault", "lighting_circuit_failure",
                          "lighting_driver_overtemp", "mains_lost"}
    assert rules["pump_burst_pipe"].severity is Severity.CRITICAL
    action = rules["pump_burst_pipe"].work_order
    assert action is not None
    assert (action.kind, action.priority) == (WorkOrderKind.EMERGENCY,
                                                                      WorkOrderPriority.EMERGENCY)
    assert rules["mains_lost"].applies_to == set(AssetKind)
    assert rules["mains_lost"].work_order is None
    assert default_rules() is not default_rules()  # callers may change their list


def test_pump_bearing_wear_raises_vibration_and_temperature_alarms() -> None:
    # Over ~4 sim hours vibration climbs to 11 mm/s and the bearing past 90 degC, then the pump is repaired.
    readings = []
    for minute in range(300):
        wear = min(minute / 240, 1.0)
        readings.append(Reading("s1", AssetKind.PUMP, "a1", T0 + timedelta(minutes=minute),
                                {**PUMP_OK, "vibration_mm_s": 1.5 + 9.5 * wear, "bearing_temp_c": 50 + 45 * wear}))
    readings += stream(AssetKind.PUMP, 300 * 60, 10, **PUMP_OK)
    events = fired(readings)
    assert [(rule, kind) for rule, kind, _ in events] == [
        ("pump_vibration_high", TransitionKind.RAISE), ("pump_bearing_overtemp", TransitionKind.RAISE),
        ("pump_vibration_high", TransitionKind.CLEAR), ("pump_bearing_overtemp", TransitionKind.CLEAR)]
    crossed = next(r.at for r in readings if r.metrics["vibration_mm_s"] > 7.1)
    assert events[0][2] == crossed + timedelta(minutes=10)


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


def test_door_fault_raises_after_fifteen_minutes_and_clears_below_five_seconds() -> None:
    faulty = {**ELEVATOR_OK, "door_close_s": 9.5, "door_reopenings": 9.0}
    readings = [*stream(AssetKind.ELEVATOR, 0, 20, **faulty),
                *stream(AssetKind.ELEVATOR, 1200, 3, **{**ELEVATOR_OK, "door_close_s": 6.0}),
                *stream(AssetKind.ELEVATOR, 1380, 1, **ELEVATOR_OK)]
    assert fired(readings) == [("elevator_door_fault", TransitionKind.RAISE, T0 + timedelta(minutes=15)),
                               ("elevator_door_fault", TransitionKind.CLEAR, T0 + timedelta(seconds=1380))]


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


def test_power_cut_raises_mains_lost_on_every_kind_and_nothing_else() -> None:
    cut = {AssetKind.PUMP: {**PUMP_OK, "mains_ok": False, "running": False, "flow_m3h": 0.0,
                            "discharge_bar": 0.0, "vibration_mm_s": 0.0},
           AssetKind.ELEVATOR: {**ELEVATOR_OK, "mains_ok": False, "in_service": False, "occupied": False},
           AssetKind.LIGHTING: {**LIGHTING_OK, "mains_ok": False, "on": False, "power_w": 0.0,
                                "current_a": 0.0, "voltage_v": 0.0}}
    for kind, metrics in cut.items():
        events = fired(list(stream(kind, 0, 3, **metrics)))
        expected_at = T0 + timedelta(seconds=INTERVAL[kind] * (1 if kind is AssetKind.LIGHTING else 2))
        assert events == [("mains_lost", TransitionKind.RAISE, expected_at)], kind


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
    off = st.fixed_dictionaries({
        "on": st.just(False), "power_w": st.floats(0, 1), "driver_temp_c": st.floats(5, 40),
        "failed_lamps": st.just(0.0), "voltage_v": st.floats(220, 240), "mains_ok": st.just(True)})
    return on | off


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
