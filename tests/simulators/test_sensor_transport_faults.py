"""Sensor faults (stuck, noisy, drifting) and transport faults (clock skew, duplicates, out of order,
malformed), and the scenario parameters that describe them."""

from __future__ import annotations

import itertools
import statistics
from datetime import timedelta

import pytest

from core.domain import AssetKind, Reading, Site
from core.errors import ConfigError
from simulators.portfolio import Portfolio
from simulators.scenario import Fault, Scenario, parse_scenario
from simulators.simulation import Simulation
from tests.simulators.helpers import MONDAY, asset, run_simulation

PUMP = asset(AssetKind.PUMP, "s1-pump-1", role="duty")
LIFT = asset(AssetKind.ELEVATOR, "s1-lift-1")
PORTFOLIO = Portfolio([Site("s1", "One")], [PUMP, LIFT])
HOUR = timedelta(hours=1)


def simulate(*faults: Fault, hours: float = 4) -> list[Reading]:
    simulation = Simulation(PORTFOLIO, MONDAY, seed=4, scenario=Scenario(list(faults)))
    return run_simulation(simulation, MONDAY + timedelta(hours=hours))


def series(readings: list[Reading], asset_id: str, since: timedelta, until: timedelta) -> list[Reading]:
    return [r for r in readings if r.asset_id == asset_id and MONDAY + since <= r.at < MONDAY + until]


def values(readings: list[Reading], name: str) -> list[float]:
    return [float(r.metrics[name]) for r in readings]


def test_a_stuck_sensor_repeats_its_value_while_the_machine_goes_on() -> None:
    readings = simulate(Fault("sensor_stuck", PUMP.id, HOUR, HOUR, metric="flow_m3h"))
    during = series(readings, PUMP.id, HOUR, 2 * HOUR)
    assert len(set(values(during, "flow_m3h"))) == 1
    assert len(set(values(during, "discharge_bar"))) > 10  # the other sensors still move
    assert len(set(values(series(readings, PUMP.id, 2 * HOUR, 3 * HOUR), "flow_m3h"))) > 10  # and it recovers


def test_a_noisy_sensor_is_noisier_and_a_drifting_one_drifts() -> None:
    noisy = simulate(Fault("sensor_noisy", PUMP.id, HOUR, HOUR, metric="suction_bar", magnitude=0.2))
    before = statistics.pstdev(values(series(noisy, PUMP.id, timedelta(0), HOUR), "suction_bar"))
    during = statistics.pstdev(values(series(noisy, PUMP.id, HOUR, 2 * HOUR), "suction_bar"))
    assert during > 3 * before
    drift = simulate(Fault("sensor_drift", LIFT.id, HOUR, 2 * HOUR, metric="door_close_s", magnitude=2.0))
    late = values(series(drift, LIFT.id, timedelta(hours=2, minutes=50), 3 * HOUR), "door_close_s")
    early = values(series(drift, LIFT.id, timedelta(0), HOUR), "door_close_s")
    assert min(late) > max(early) + 3


def test_sensor_faults_do_not_change_the_machine_stream() -> None:
    clean = series(simulate(), PUMP.id, timedelta(0), 4 * HOUR)
    faulty = series(simulate(Fault("sensor_noisy", PUMP.id, HOUR, HOUR, metric="suction_bar", magnitude=0.2)),
                    PUMP.id, timedelta(0), 4 * HOUR)
    assert values(clean, "flow_m3h") == values(faulty, "flow_m3h")


def test_clock_skew_shifts_the_reported_times_only_while_it_lasts() -> None:
    readings = simulate(Fault("clock_skew", PUMP.id, HOUR, HOUR, magnitude=120.0))
    times = [r.at for r in readings if r.asset_id == PUMP.id]
    steps = [b - a for a, b in itertools.pairwise(times)]
    assert sorted(set(steps)) == [timedelta(seconds=-60), timedelta(seconds=60), timedelta(seconds=180)]


def test_duplicates_repeat_the_same_report_and_out_of_order_swaps_neighbours() -> None:
    readings = simulate(Fault("duplicate", PUMP.id, HOUR, HOUR), Fault("out_of_order", LIFT.id, HOUR, HOUR))
    pump_seqs = [r.seq for r in readings if r.asset_id == PUMP.id]
    assert len(pump_seqs) - len(set(pump_seqs)) == 60
    lift_seqs = [r.seq or 0 for r in readings if r.asset_id == LIFT.id]
    assert sorted(lift_seqs) == list(range(lift_seqs[0], lift_seqs[0] + len(lift_seqs)))  # nothing lost
    backwards = sum(b < a for a, b in itertools.pairwise(lift_seqs))
    assert 25 <= backwards <= 31


def test_scenario_yaml_carries_the_fault_parameters() -> None:
    scenario = parse_scenario("""
description: sensors
raises: [none_really]
start: 2026-01-05T17:00:00Z
duration: 2h
faults:
  - {fault: sensor_noisy, asset: s1-pump-1, metric: suction_bar, sigma: 0.05, at: 1h}
  - {fault: sensor_drift, asset: s1-lift-1, metric: door_close_s, per_hour: 0.3, at: 1h}
  - {fault: clock_skew, site: s1, offset: -90s, at: 0s}
  - {fault: malformed, asset: s1-lift-1, at: 10m, for: 5m}
""", "t.yaml")
    scenario.check(PORTFOLIO)
    assert scenario.start == MONDAY + timedelta(hours=17)
    assert scenario.duration == 2 * HOUR
    assert [(f.name, f.metric, f.magnitude) for f in scenario.faults] == [
        ("sensor_noisy", "suction_bar", 0.05), ("sensor_drift", "door_close_s", 0.3),
        ("clock_skew", None, -90.0), ("malformed", None, 0.0)]


@pytest.mark.parametrize(("entry", "message"), [
    ("{fault: sensor_stuck, asset: s1-pump-1, at: 1h}", "needs metric"),
    ("{fault: clock_skew, asset: s1-pump-1, at: 1h}", "needs offset"),
    ("{fault: sensor_noisy, asset: s1-pump-1, metric: suction_bar, sigma: lots, at: 1h}", "must be a number"),
])
def test_scenario_yaml_refuses_faults_without_their_parameters(entry: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_scenario(f"faults:\n  - {entry}\n", "t.yaml")


def test_a_sensor_fault_on_a_metric_the_kind_lacks_is_refused() -> None:
    with pytest.raises(ConfigError, match="no metric 'flow_m3h'"):
        Scenario([Fault("sensor_stuck", LIFT.id, HOUR, metric="flow_m3h")]).check(PORTFOLIO)


def test_the_same_seed_gives_the_same_faulty_stream() -> None:
    faults = (Fault("sensor_noisy", PUMP.id, HOUR, HOUR, metric="suction_bar", magnitude=0.2),
              Fault("out_of_order", LIFT.id, HOUR, HOUR), Fault("clock_skew", PUMP.id, 2 * HOUR, HOUR, magnitude=30))
    assert simulate(*faults) == simulate(*faults)
