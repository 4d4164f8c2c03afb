"""The daily fleet simulator: reproducible, wear-out at wear 1, a PM renews, P-F defects show before they fail."""

from __future__ import annotations

import numpy as np

from facmon.bench.maintenance_crew import Crew, run_kind
from facmon.bench.maintenance_policies import FixedInterval
from simulators.fleet import Fleet, KindFleet


def _run(fleet: KindFleet, days: int) -> list[np.ndarray]:
    return [fleet.step(day).indicators for day in range(days)]


def test_the_same_seed_gives_the_same_fleet_and_failures() -> None:
    one, two = Fleet(20, 10, 100, seed=3), Fleet(20, 10, 100, seed=3)
    for kind in one.kinds:
        a, b = one.kinds[kind], two.kinds[kind]
        assert np.array_equal(np.stack(_run(a, 200)), np.stack(_run(b, 200)))
        assert a.failures == b.failures
    assert Fleet(20, 10, 100, seed=4).kinds["pump"].wear.tolist() != one.kinds["pump"].wear.tolist()


def test_wear_out_failures_happen_when_wear_reaches_one() -> None:
    fleet = KindFleet("pump", 40, 10, seed=1)
    for day in range(400):
        up = fleet.down_until < day
        observation = fleet.step(day)
        failed = set(observation.failed.tolist())
        worn = {int(a) for a in np.flatnonzero(up & (fleet.wear >= 1.0))}
        assert worn <= failed  # every worn-out part fails that day
        assert all(fleet.wear[f.asset] >= 1.0 for f in fleet.failures if f.day == day and f.mode == "wear_out")
    assert any(f.mode == "wear_out" for f in fleet.failures)


def test_a_pm_renews_the_part_and_removes_the_defect() -> None:
    fleet = KindFleet("elevator", 30, 30, seed=2)
    day = next(d for d in range(2000) if (fleet.defect_progress(d) > 0.3).any())
    assets = np.flatnonzero(fleet.defect_progress(day) > 0.3)
    fleet.service(assets, day)
    assert np.allclose(fleet.wear[assets], 0.02)
    assert (fleet.defect_progress(day)[assets] == 0).all()


def test_run_to_failure_fails_more_than_a_fixed_interval() -> None:
    def failures(interval: int | None) -> int:
        fleet = KindFleet("pump", 40, 20, seed=5)
        run_kind(fleet, FixedInterval(fleet, interval), Crew(2, 8.0), 365)
        return len(fleet.failures)

    assert failures(None) > 1.5 * failures(120)


def test_defects_show_in_the_indicators_before_they_fail() -> None:
    fleet = KindFleet("pump", 60, 20, seed=6)
    rows = np.stack(_run(fleet, 600))  # (days, assets, indicators): vibration, bearing temperature
    defects = [f for f in fleet.failures if f.mode == "defect" and f.day >= 70]
    assert defects
    for failure in defects:
        before = rows[failure.day - 3, failure.asset]
        long_before = rows[failure.day - 65, failure.asset]  # before the longest P-F interval (60 days)
        assert before[0] > long_before[0] + 1.0  # vibration up by more than 1 mm/s
        assert before[1] > long_before[1] + 5.0  # bearing hotter by more than 5 degC
