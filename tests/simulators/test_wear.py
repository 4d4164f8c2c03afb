"""Wear and failure: degradation with use and stress, drifting condition signals, repair resets the wear."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from core.catalogue import CATALOGUE
from core.clock import ManualClock
from core.domain import AssetKind, Site
from core.events import EventBus
from simulators.portfolio import Portfolio
from simulators.pump import PUMP_CURVE_K, Pump, operating_point
from simulators.runner import SimulatorRunner
from simulators.simulation import Simulation, make_device
from tests.simulators.helpers import MONDAY, asset, run_model, run_simulation


@given(h0=st.floats(3.0, 6.0), static=st.floats(0.0, 2.9), resistance=st.floats(1e-5, 0.05))
def test_the_operating_point_lies_on_both_the_pump_and_the_system_curve(h0: float, static: float,
                                                                       resistance: float) -> None:
    flow, head = operating_point(h0, PUMP_CURVE_K, static, resistance)
    assert flow > 0
    assert abs(head - (h0 - PUMP_CURVE_K * flow**2)) < 1e-9
    assert abs(head - (static + resistance * flow**2)) < 1e-9


def test_a_pump_that_cannot_lift_the_static_head_delivers_nothing() -> None:
    assert operating_point(2.0, PUMP_CURVE_K, 2.5, 0.001) == (0.0, 2.0)


def test_pump_runs_to_a_bearing_failure_with_drifting_vibration_and_heat() -> None:
    pump = asset(AssetKind.PUMP, "p", role="duty", initial_wear=0.7)
    model, rng = make_device(pump, 3)
    at, readings = MONDAY, []
    while not model.failed:
        at += timedelta(hours=1)
        readings.append((model.health(), model.step(at, 3600, rng)))
        assert at < MONDAY + timedelta(days=365), "the bearing never failed"
    early = [m for wear, m in readings if wear < 0.75]
    late = readings[-1][1]
    assert max(float(m["vibration_mm_s"]) for m in early) < 2.8
    assert float(late["vibration_mm_s"]) > 7.1  # ISO 10816 zone D at failure
    assert float(late["bearing_temp_c"]) > float(early[-1]["bearing_temp_c"]) + 20


def test_off_design_flow_wears_a_bearing_faster() -> None:
    def wear_after_a_day(usage: str) -> float:
        model, rng = make_device(asset(AssetKind.PUMP, "p", role="duty", usage=usage, initial_wear=0.1), 5)
        for hour in range(1, 24 * 7):
            model.step(MONDAY + timedelta(hours=hour), 3600, rng)
        return model.health() - 0.1
    # the office building's pump spends nights and weekends far below its best-efficiency flow
    assert wear_after_a_day("office") > wear_after_a_day("residential")


def test_elevator_door_wear_and_led_driver_wear_lead_to_their_failures() -> None:
    lift = asset(AssetKind.ELEVATOR, "e", initial_wear=0.999)
    series = run_model(lift, 1, MONDAY + timedelta(hours=8), MONDAY + timedelta(hours=12))
    assert max(float(m["door_close_s"]) for _, m in series) >= 7.9
    light = asset(AssetKind.LIGHTING, "l", rated_w=500, initial_wear=1.0)
    lit = [m for _, m in run_model(light, 1, MONDAY + timedelta(hours=18), MONDAY + timedelta(hours=22))]
    assert all(m["on"] is True and float(m["power_w"]) < 5 and float(m["failed_lamps"]) > 0 for m in lit)


def test_service_resets_the_wear_and_the_condition_signals_recover() -> None:
    pump = asset(AssetKind.PUMP, "p", role="duty", initial_wear=0.95)
    model, rng = make_device(pump, 2)
    assert isinstance(model, Pump)
    before = [model.step(MONDAY + timedelta(minutes=m), 60, rng) for m in range(1, 30)]
    model.service()
    assert model.health() < 0.05
    after = [model.step(MONDAY + timedelta(hours=2, minutes=m), 60, rng) for m in range(1, 90)]
    assert min(float(m["vibration_mm_s"]) for m in before) > 6
    assert max(float(m["vibration_mm_s"]) for m in after[-10:]) < 2.5
    assert float(after[-1]["bearing_temp_c"]) < float(before[-1]["bearing_temp_c"]) - 20


def test_a_completed_work_order_on_the_bus_services_the_simulated_asset() -> None:
    pump = asset(AssetKind.PUMP, "s1-pump-1", role="duty", initial_wear=0.9)
    portfolio = Portfolio([Site("s1", "One")], [pump])
    runner = SimulatorRunner(portfolio, ManualClock(MONDAY), "127.0.0.1", 1)  # never started: no broker needed
    simulation = Simulation(portfolio, MONDAY, seed=0)
    bus = EventBus()
    runner.follow_work_orders(bus)
    bus.publish("workorder.changed", {"id": 7, "status": "in_progress", "asset_id": pump.id})
    bus.publish("workorder.changed", {"id": 8, "status": "completed", "asset_id": "not-simulated-here"})
    runner._apply_services(simulation)
    assert simulation.health()[pump.id] >= 0.9
    bus.publish("workorder.changed", {"id": 7, "status": "completed", "asset_id": pump.id})
    bus.publish("workorder.changed", {"id": 7, "status": "closed", "asset_id": pump.id})  # once per order
    runner._apply_services(simulation)
    assert simulation.health()[pump.id] < 0.05
    assert [asset_id for asset_id, _ in runner.serviced] == [pump.id]


def test_duty_rotation_swaps_the_running_pump_of_a_pair_every_period() -> None:
    duty = asset(AssetKind.PUMP, "s1-pump-1", role="duty", rotate_every_d=7)
    standby = asset(AssetKind.PUMP, "s1-pump-2", role="standby", rotate_every_d=7)
    simulation = Simulation(Portfolio([Site("s1", "One")], [duty, standby]), MONDAY, seed=0)
    readings = run_simulation(simulation, MONDAY + timedelta(days=14), tick=timedelta(hours=1))
    def running(asset_id: str, week: int) -> set[bool]:
        return {bool(r.metrics["running"]) for r in readings
                if r.asset_id == asset_id and (r.at - MONDAY) // timedelta(days=7) == week}
    assert running(duty.id, 0) == {True}
    assert running(standby.id, 0) == {False}
    assert running(duty.id, 1) == {False}
    assert running(standby.id, 1) == {True}
    second = [r for r in readings if r.asset_id == standby.id]
    assert second[-1].metrics["starts"] == second[0].metrics["starts"] + 1


def test_a_daylight_controlled_circuit_follows_its_sensor_not_the_clock() -> None:
    light = asset(AssetKind.LIGHTING, "l", rated_w=500, control="daylight")
    series = run_model(light, 2, MONDAY, MONDAY + timedelta(days=2))
    for at, metrics in series:
        lux = float(metrics["ambient_lux"])
        if lux < 50:
            assert metrics["on"] is True, at
        if lux > 150:
            assert metrics["on"] is False, at
    on_hours = {at.hour for at, m in series if m["on"]}
    assert 17 in on_hours  # dark before the 18:00 schedule would switch it on
    assert 12 not in on_hours


@given(seed=st.integers(0, 10_000))
@settings(max_examples=15, deadline=None)
def test_any_seed_keeps_a_healthy_day_inside_the_catalogue_normal_ranges(seed: int) -> None:
    for kind, extra in ((AssetKind.PUMP, {"role": "duty"}), (AssetKind.ELEVATOR, {}),
                        (AssetKind.LIGHTING, {"rated_w": 800})):
        unit = asset(kind, f"u-{kind.value}", **extra)
        for at, metrics in run_model(unit, seed, MONDAY, MONDAY + timedelta(days=1)):
            for name, value in metrics.items():
                low, high = CATALOGUE[kind][name].normal
                assert low <= float(value) <= high, (seed, kind, name, value, at)
