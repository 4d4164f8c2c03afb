"""The default pack on the simulators' own output (pure Simulation, no MQTT): each fault raises exactly
its alarm, a power cut raises one site alarm, and a healthy simulated day raises nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from rules.engine import Firing, RuleEngine, TransitionKind
from rules.pack import default_rules
from simulators.portfolio import Portfolio, default_portfolio
from simulators.scenario import DEMO_START, Fault, Scenario
from simulators.simulation import Simulation

STEP = timedelta(minutes=1)


def simulate(portfolio: Portfolio, start: datetime, length: timedelta,
             scenario: Scenario | None = None) -> Iterator[Firing]:
    """Feed the simulation through the engine as the runtime does: readings, last wills, watermarks."""
    sim = Simulation(portfolio, start, seed=7, scenario=scenario)
    engine = RuleEngine(default_rules(), portfolio.assets)
    engine.register((), portfolio.sites)  # their zones: `during` windows in local time, as the simulators
    offline: set[str] = set()
    now = start
    while now < start + length:
        now += STEP
        for reading in sim.due(now):
            yield from engine.evaluate(reading)
        dropped = sim.offline(now)
        for asset_id in sorted(dropped ^ offline):
            yield from engine.device_status(asset_id, "offline" if asset_id in dropped else "online", now)
        offline = dropped
        yield from engine.advance_time(now)


def raised(firings: Iterator[Firing]) -> set[tuple[str, str]]:
    return {(rule.id, reading.asset_id) for rule, reading, t in firings if t.kind is TransitionKind.RAISE}


def unexplained(firings: list[Firing]) -> set[tuple[str, str]]:
    """Raised alarms not suppressed by an active site alarm of their site (what operators would see)."""
    active_sites: set[tuple[str, str]] = set()
    seen: set[tuple[str, str]] = set()
    for rule, reading, transition in firings:
        if rule.scope == "site":
            key = (rule.id, reading.site_id)
            (active_sites.add if transition.kind is TransitionKind.RAISE else active_sites.discard)(key)
        if transition.kind is TransitionKind.RAISE and not any(
                (cause, reading.site_id) in active_sites for cause in rule.suppressed_by):
            seen.add((rule.id, reading.asset_id))
    return seen


VIB = "pump_vibration_g2_rigid"


@pytest.mark.parametrize(("fault", "target", "at", "duration", "expected"), [
    ("pump_bearing", "riverside-pump-1", timedelta(hours=1), None,
     {f"{VIB}.high_warning", f"{VIB}.high_action", "pump_bearing_temp.high_warning",
      "pump_bearing_temp.high_action"}),
    ("burst_pipe", "harbour-pump-1", timedelta(hours=2), timedelta(hours=1), {"pump_burst_pipe"}),
    ("entrapment", "riverside-elevator-2", timedelta(hours=3), timedelta(minutes=30), {"elevator_entrapment"}),
    ("door_fault", "harbour-elevator-1", timedelta(hours=8), timedelta(hours=3), {"elevator_door_fault"}),
    ("circuit_failure", "harbour-light-04", timedelta(hours=5), None, {"lighting_circuit_failure"}),
    ("driver_overtemp", "riverside-light-07", timedelta(hours=10), timedelta(hours=2), {"lighting_driver_overtemp"}),
    ("offline", "riverside-elevator-1", timedelta(hours=4), timedelta(minutes=30), {"device_offline"}),
])
def test_each_simulated_fault_raises_exactly_its_alarm(fault: str, target: str, at: timedelta,
                                                       duration: timedelta | None, expected: set[str]) -> None:
    scenario = Scenario((Fault(fault, target, at, duration),))
    length = at + (duration or timedelta(hours=6)) + timedelta(hours=1)
    found = raised(simulate(default_portfolio(), DEMO_START, length, scenario))
    assert found == {(rule_id, target) for rule_id in expected}


def test_a_power_cut_raises_one_site_alarm_and_explains_the_rest() -> None:
    scenario = Scenario((Fault("power_cut", "harbour", timedelta(hours=2), timedelta(minutes=20)),))
    firings = list(simulate(default_portfolio(), DEMO_START, timedelta(hours=3), scenario))
    assert unexplained(firings) == {("site_power_cut", "harbour")}
    site = [(t.kind, t.at) for rule, _, t in firings if rule.id == "site_power_cut"]
    assert [kind for kind, _ in site] == [TransitionKind.RAISE, TransitionKind.CLEAR]
    cut = DEMO_START + timedelta(hours=2)
    assert cut <= site[0][1] <= cut + timedelta(minutes=6)
    assert sum(1 for _, reading, t in firings if t.kind is TransitionKind.RAISE
               and reading.asset_id == "harbour") == 1


def test_a_healthy_simulated_day_raises_nothing() -> None:
    portfolio = default_portfolio()
    assert list(simulate(portfolio, DEMO_START, timedelta(days=1))) == []


def test_the_demo_scenario_raises_one_alarm_set_per_fault_and_nothing_else() -> None:
    from simulators.scenario import demo_scenario

    firings = list(simulate(default_portfolio(), DEMO_START, timedelta(hours=16), demo_scenario()))
    assert unexplained(firings) == {
        (f"{VIB}.high_warning", "riverside-pump-1"), (f"{VIB}.high_action", "riverside-pump-1"),
        ("pump_bearing_temp.high_warning", "riverside-pump-1"), ("pump_bearing_temp.high_action", "riverside-pump-1"),
        ("pump_burst_pipe", "harbour-pump-1"), ("elevator_entrapment", "riverside-elevator-2"),
        ("lighting_circuit_failure", "harbour-light-04"), ("elevator_door_fault", "harbour-elevator-1"),
        ("lighting_driver_overtemp", "riverside-light-07"), ("site_power_cut", "harbour"),
        ("device_offline", "riverside-elevator-1")}
