"""Each fault of the scenario produces exactly the signature the default rule pack looks for."""

from __future__ import annotations

import itertools
from datetime import timedelta

from core.domain import AssetKind, Reading, Site
from simulators.portfolio import Portfolio
from simulators.scenario import Fault, Scenario
from simulators.simulation import Simulation
from tests.simulators.helpers import MONDAY, asset, run_simulation

EVENING = MONDAY + timedelta(hours=17)  # lights switch on at 18:00
PUMP = asset(AssetKind.PUMP, "s1-pump-1", role="duty")
STANDBY = asset(AssetKind.PUMP, "s1-pump-2", role="standby")
LIFT = asset(AssetKind.ELEVATOR, "s1-lift-1")
LIGHT = asset(AssetKind.LIGHTING, "s1-light-1", rated_w=500)
OTHER_SITE_PUMP = asset(AssetKind.PUMP, "s2-pump-1", site_id="s2", role="duty")
PORTFOLIO = Portfolio([Site("s1", "One"), Site("s2", "Two")], [PUMP, STANDBY, LIFT, LIGHT, OTHER_SITE_PUMP])


def simulate(*faults: Fault, hours: float = 12) -> dict[str, list[Reading]]:
    simulation = Simulation(PORTFOLIO, EVENING, seed=1, scenario=Scenario(list(faults)))
    by_asset: dict[str, list[Reading]] = {}
    for reading in run_simulation(simulation, EVENING + timedelta(hours=hours)):
        by_asset.setdefault(reading.asset_id, []).append(reading)
    return by_asset


def between(readings: list[Reading], since: timedelta, until: timedelta) -> list[Reading]:
    return [r for r in readings if EVENING + since <= r.at < EVENING + until]


def value(reading: Reading, name: str) -> float:
    return float(reading.metrics[name])


def test_pump_bearing_climbs_over_about_four_hours_past_the_alarm_limits() -> None:
    series = simulate(Fault("pump_bearing", PUMP.id, timedelta(hours=1)))[PUMP.id]
    before = between(series, timedelta(0), timedelta(hours=1))
    assert max(value(r, "vibration_mm_s") for r in before) < 2.5
    first_hour = between(series, timedelta(hours=1), timedelta(hours=2))
    assert max(value(r, "vibration_mm_s") for r in first_hour) < 4.5  # gradual, not a step
    over = [r.at for r in series if value(r, "vibration_mm_s") > 7.1]
    assert EVENING + timedelta(hours=2, minutes=30) <= over[0] <= EVENING + timedelta(hours=4, minutes=30)
    late = between(series, timedelta(hours=5, minutes=30), timedelta(hours=12))
    assert all(9 <= value(r, "vibration_mm_s") <= 12 for r in late)
    assert all(value(r, "bearing_temp_c") > 90 for r in late)
    assert all(r.metrics["running"] is True for r in late)


def test_burst_pipe_means_high_flow_and_collapsed_pressure_while_it_lasts() -> None:
    by_asset = simulate(Fault("burst_pipe", PUMP.id, timedelta(hours=2), timedelta(hours=1)))
    during = between(by_asset[PUMP.id], timedelta(hours=2), timedelta(hours=3))
    assert len(during) == 60
    assert all(value(r, "flow_m3h") >= 60 and value(r, "discharge_bar") <= 1.5 for r in during)
    after = between(by_asset[PUMP.id], timedelta(hours=3), timedelta(hours=12))
    assert all(value(r, "flow_m3h") <= 40 and value(r, "discharge_bar") >= 3.5 for r in after)


def test_burst_pipe_starts_a_standby_pump() -> None:
    series = simulate(Fault("burst_pipe", STANDBY.id, timedelta(hours=2), timedelta(minutes=30)))[STANDBY.id]
    during = between(series, timedelta(hours=2), timedelta(hours=2, minutes=30))
    assert all(r.metrics["running"] is True and value(r, "flow_m3h") >= 60 for r in during)
    assert value(during[-1], "starts") == value(during[0], "starts") == value(series[0], "starts") + 1


def test_entrapment_takes_the_car_out_of_service_with_someone_pressing_the_alarm() -> None:
    series = simulate(Fault("entrapment", LIFT.id, timedelta(hours=3), timedelta(minutes=30)))[LIFT.id]
    during = between(series, timedelta(hours=3), timedelta(hours=3, minutes=30))
    assert len(during) == 30
    for r in during:
        assert (r.metrics["in_service"], r.metrics["occupied"], r.metrics["alarm_button"]) == (False, True, True)
    assert value(during[0], "trips") == value(during[-1], "trips")  # the car does not move
    after = between(series, timedelta(hours=3, minutes=30), timedelta(hours=12))
    assert all(r.metrics["in_service"] is True and r.metrics["alarm_button"] is False for r in after)


def test_door_fault_means_slow_doors_and_many_reopenings() -> None:
    series = simulate(Fault("door_fault", LIFT.id, timedelta(hours=8)))[LIFT.id]
    assert all(value(r, "door_close_s") < 4 for r in between(series, timedelta(0), timedelta(hours=8)))
    during = between(series, timedelta(hours=8), timedelta(hours=12))
    assert all(value(r, "door_close_s") >= 9 and value(r, "door_reopenings") >= 8 for r in during)
    assert all(r.metrics["in_service"] is True for r in during)


def test_circuit_failure_is_a_lit_circuit_drawing_no_power() -> None:
    series = simulate(Fault("circuit_failure", LIGHT.id, timedelta(hours=5)), hours=16)[LIGHT.id]
    lit = between(series, timedelta(hours=5), timedelta(hours=14))  # 22:00-07:00
    assert len(lit) == 9 * 12
    for r in lit:
        assert r.metrics["on"] is True
        assert value(r, "power_w") < 5
        assert value(r, "current_a") < 0.05
        assert value(r, "failed_lamps") > 0
    assert all(value(r, "power_w") > 200 for r in between(series, timedelta(hours=1), timedelta(hours=5)))


def test_driver_overtemp_heats_the_driver_past_90() -> None:
    series = simulate(Fault("driver_overtemp", LIGHT.id, timedelta(hours=4), timedelta(hours=2)))[LIGHT.id]
    hot = between(series, timedelta(hours=4, minutes=30), timedelta(hours=6))
    assert all(value(r, "driver_temp_c") > 90 for r in hot)
    cooled = between(series, timedelta(hours=7), timedelta(hours=12))
    assert all(value(r, "driver_temp_c") < 75 for r in cooled)


def test_power_cut_on_a_site_takes_mains_from_every_asset_there_and_only_there() -> None:
    by_asset = simulate(Fault("power_cut", "s1", timedelta(hours=2), timedelta(minutes=20)))
    window = (timedelta(hours=2), timedelta(hours=2, minutes=20))
    for asset_id in (PUMP.id, STANDBY.id, LIFT.id, LIGHT.id):
        during = between(by_asset[asset_id], *window)
        assert during, asset_id
        assert all(r.metrics["mains_ok"] is False for r in during), asset_id
    assert all(r.metrics["running"] is False for r in between(by_asset[PUMP.id], *window))
    assert all(r.metrics["in_service"] is False for r in between(by_asset[LIFT.id], *window))
    assert all(r.metrics["on"] is False for r in between(by_asset[LIGHT.id], *window))
    assert all(r.metrics["mains_ok"] is True for r in by_asset[OTHER_SITE_PUMP.id])
    # Back on mains, the duty pump restarts: one more start.
    after = between(by_asset[PUMP.id], timedelta(hours=2, minutes=20), timedelta(hours=12))
    assert after[0].metrics["running"] is True
    assert value(after[0], "starts") == value(by_asset[PUMP.id][0], "starts") + 1


def test_offline_device_sends_nothing_while_it_lasts_and_its_sequence_shows_the_gap() -> None:
    series = simulate(Fault("offline", LIFT.id, timedelta(hours=1), timedelta(minutes=30)))[LIFT.id]
    assert not between(series, timedelta(hours=1), timedelta(hours=1, minutes=30))
    gaps = [(a, b) for a, b in itertools.pairwise(series) if b.seq != (a.seq or 0) + 1]
    assert len(gaps) == 1
    before, after = gaps[0]
    assert (after.seq or 0) - (before.seq or 0) == 31

