"""The simulation core: a regular event-time schedule, bounded catch-up, determinism."""

from __future__ import annotations

import itertools
import random
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain import AssetKind, Site
from simulators.portfolio import Portfolio, default_portfolio
from simulators.scenario import DEMO_START, demo_scenario
from simulators.simulation import MAX_CATCH_UP, Simulation
from tests.simulators.helpers import MONDAY, asset, run_simulation

PORTFOLIO = Portfolio([Site("s1", "One")], [asset(AssetKind.PUMP, role="duty"), asset(AssetKind.ELEVATOR),
                                             asset(AssetKind.LIGHTING)])


def test_each_device_reports_on_a_regular_grid_spread_over_its_interval() -> None:
    readings = run_simulation(Simulation(PORTFOLIO, MONDAY, seed=2), MONDAY + timedelta(hours=2))
    for unit in PORTFOLIO.assets:
        times = [r.at for r in readings if r.asset_id == unit.id]
        assert len(times) == 2 * 3600 // unit.report_interval_s
        assert MONDAY <= times[0] < MONDAY + timedelta(seconds=unit.report_interval_s)
        assert {b - a for a, b in itertools.pairwise(times)} == {timedelta(seconds=unit.report_interval_s)}
        assert [r.seq for r in readings if r.asset_id == unit.id] == list(range(1, len(times) + 1))
    assert [r.at for r in readings] == sorted(r.at for r in readings)


def test_a_clock_jump_is_caught_up_interval_by_interval_at_most_ten_per_call() -> None:
    simulation = Simulation(PORTFOLIO, MONDAY, seed=2)
    now = MONDAY + timedelta(minutes=45)
    first = simulation.due(now)
    pump_id = PORTFOLIO.assets[0].id
    assert len([r for r in first if r.asset_id == pump_id]) == MAX_CATCH_UP
    assert simulation.is_behind(now)
    rest = []
    while simulation.is_behind(now):
        rest.extend(simulation.due(now))
    pump_times = [r.at for r in first + rest if r.asset_id == pump_id]
    assert len(pump_times) == 45
    assert {b - a for a, b in itertools.pairwise(pump_times)} == {timedelta(minutes=1)}


def test_a_jump_of_days_skips_ahead_instead_of_replaying_everything() -> None:
    simulation = Simulation(PORTFOLIO, MONDAY, seed=2)
    now = MONDAY + timedelta(days=30)
    readings = []
    while simulation.is_behind(now):
        readings.extend(simulation.due(now))
    assert len(readings) <= 3 * (MAX_CATCH_UP + 1)
    pump = [r for r in readings if r.asset_id == PORTFOLIO.assets[0].id]
    assert pump[-1].at > now - timedelta(minutes=1)
    assert (pump[-1].seq or 0) == 30 * 24 * 60  # the skipped reports used up their sequence numbers


@settings(max_examples=10, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=1800), min_size=1, max_size=40))
def test_the_stream_does_not_depend_on_how_the_clock_was_stepped(jumps_s: list[int]) -> None:
    end = MONDAY + timedelta(seconds=sum(jumps_s))
    steady = run_simulation(Simulation(PORTFOLIO, MONDAY, seed=5), end, tick=timedelta(seconds=30))
    simulation, now, jumpy = Simulation(PORTFOLIO, MONDAY, seed=5), MONDAY, []
    for jump in jumps_s:
        now += timedelta(seconds=jump)
        jumpy.extend(simulation.due(now))
    while simulation.is_behind(end):
        jumpy.extend(simulation.due(end))
    key = lambda r: (r.at, r.asset_id)  # noqa: E731
    assert sorted(jumpy, key=key) == sorted(steady, key=key)


def test_the_default_portfolio_with_the_demo_scenario_is_reproducible() -> None:
    def run(seed: int) -> list[object]:
        simulation = Simulation(default_portfolio(), DEMO_START, seed=seed, scenario=demo_scenario())
        return list(run_simulation(simulation, DEMO_START + timedelta(hours=3), tick=timedelta(minutes=7)))

    first = run(0)
    assert run(0) == first
    assert run(1) != first


def test_models_do_not_touch_the_global_random_state() -> None:
    random.seed(99)
    expected = random.random()
    random.seed(99)
    run_simulation(Simulation(PORTFOLIO, MONDAY, seed=1), MONDAY + timedelta(hours=1))
    assert random.random() == expected
