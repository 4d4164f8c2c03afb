"""Every shipped scenario produces, in the telemetry, the signature of the alarm it documents (checked here
without the rules engine: the rules engineers run the same files through the engine)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from core.domain import Reading
from simulators.portfolio import default_portfolio
from simulators.scenario import Scenario, shipped_scenarios
from simulators.simulation import Simulation
from tests.simulators.helpers import run_simulation

SHANGHAI = ZoneInfo("Asia/Shanghai")
SCENARIOS = {name: scenario for name, scenario in shipped_scenarios().items() if name != "demo"}
Signature = Callable[[Reading, Reading], bool]  # (previous report, this report) of the fault's target


def local_hour(reading: Reading) -> int:
    """The hour on the site's clock (the default portfolio keeps Asia/Shanghai time)."""
    return reading.at.astimezone(SHANGHAI).hour


def v(reading: Reading, name: str) -> float:
    return float(reading.metrics[name])


# rule id -> (condition on consecutive reports of the target, how long it must hold)
SIGNATURES: dict[str, tuple[Signature, timedelta]] = {
    "pump_vibration_g2_rigid": (lambda _, r: v(r, "vibration_mm_s") > 4.5, timedelta(minutes=10)),
    "pump_bearing_temp": (lambda _, r: v(r, "bearing_temp_c") > 85, timedelta(minutes=5)),
    "pump_dry_running": (lambda _, r: bool(r.metrics["running"]) and v(r, "flow_m3h") < 2
                         and v(r, "suction_bar") < 0.2, timedelta(minutes=1)),
    "pump_cavitation": (lambda p, r: bool(r.metrics["running"]) and v(r, "suction_bar") < 0.3
                        and abs(v(r, "discharge_bar") - v(p, "discharge_bar")) > 1.0, timedelta(minutes=5)),
    "pump_burst_pipe": (lambda _, r: v(r, "flow_m3h") > 55 and v(r, "discharge_bar") < 2.0, timedelta(minutes=2)),
    "elevator_entrapment": (lambda _, r: bool(r.metrics["alarm_button"]) and bool(r.metrics["occupied"])
                            and not r.metrics["in_service"], timedelta(minutes=1)),
    "elevator_door_fault": (lambda _, r: v(r, "door_close_s") > 8, timedelta(minutes=15)),
    "elevator_motor_overcurrent": (lambda _, r: v(r, "motor_current_a") > 60, timedelta(minutes=1)),
    "elevator_leveling_error": (lambda _, r: abs(v(r, "leveling_error_mm")) > 20, timedelta(minutes=3)),
    "elevator_out_of_service": (lambda _, r: not r.metrics["in_service"] and not r.metrics["alarm_button"],
                                timedelta(minutes=15)),
    "lighting_circuit_failure": (lambda _, r: bool(r.metrics["on"]) and v(r, "power_w") < 20, timedelta(minutes=10)),
    "lighting_driver_overtemp": (lambda _, r: v(r, "driver_temp_c") > 85, timedelta(minutes=10)),
    "lighting_on_in_daylight": (lambda _, r: bool(r.metrics["on"]) and 9 <= local_hour(r) < 16,
                                timedelta(minutes=30)),
    "lighting_off_at_night": (lambda _, r: not r.metrics["on"] and bool(r.metrics["mains_ok"])
                              and (local_hour(r) >= 19 or local_hour(r) < 6), timedelta(minutes=30)),
    "mains_lost": (lambda _, r: not r.metrics["mains_ok"], timedelta(minutes=10)),
}


def run(scenario: Scenario) -> list[Reading]:
    assert scenario.start is not None
    assert scenario.duration is not None
    simulation = Simulation(default_portfolio(), scenario.start, seed=0, scenario=scenario)
    return run_simulation(simulation, scenario.start + scenario.duration)


def longest_run(series: list[Reading], signature: Signature) -> timedelta:
    """The longest stretch of consecutive reports (first to last) on which the signature holds."""
    best, since = timedelta(0), None
    for previous, reading in itertools.pairwise(series):
        if signature(previous, reading):
            since = since or reading.at
            best = max(best, reading.at - since)
        else:
            since = None
    return best


def rule_family(rule_id: str) -> str:
    return rule_id.split(".")[0]


def test_every_default_rule_a_simulator_can_trigger_has_a_scenario() -> None:
    covered = {rule_family(rule) for scenario in SCENARIOS.values() for rule in scenario.raises}
    assert covered == set(SIGNATURES) | {"device_offline", "site_power_cut"}
    for name, scenario in SCENARIOS.items():
        assert scenario.description, name
        assert scenario.start is not None, name
        assert scenario.duration is not None, name


WITH_SIGNATURE = sorted(n for n, s in SCENARIOS.items() if set(map(rule_family, s.raises)) & set(SIGNATURES))


@pytest.mark.parametrize("name", WITH_SIGNATURE)
def test_scenario_produces_the_signature_of_its_alarm(name: str) -> None:
    scenario = SCENARIOS[name]
    target = scenario.faults[0].target
    series = [r for r in run(scenario) if r.asset_id == target]
    for rule in {rule_family(rule) for rule in scenario.raises}:
        signature, hold = SIGNATURES[rule]
        assert longest_run(series, signature) >= hold, (name, rule)


def test_device_offline_scenario_leaves_a_gap_in_reports_and_seq() -> None:
    scenario = SCENARIOS["device_offline"]
    series = [r for r in run(scenario) if r.asset_id == scenario.faults[0].target]
    gaps = [(b.at - a.at, (b.seq or 0) - (a.seq or 0)) for a, b in itertools.pairwise(series)]
    assert max(gaps) >= (timedelta(minutes=30), 30)


def test_site_power_cut_scenario_takes_mains_from_every_asset_of_the_site() -> None:
    scenario = SCENARIOS["site_power_cut"]
    site = scenario.faults[0].target
    readings = [r for r in run(scenario) if r.site_id == site and not r.metrics["mains_ok"]]
    assets = {a.id for a in default_portfolio().assets if a.site_id == site}
    assert {r.asset_id for r in readings} == assets


def test_healthy_assets_stay_healthy_in_every_scenario() -> None:
    """Only the targets of a scenario show anything: no other asset leaves its normal behaviour."""
    for name in ("pump_burst_pipe", "elevator_door_fault", "lighting_off_at_night"):
        scenario = SCENARIOS[name]
        targets = {fault.target for fault in scenario.faults}
        others = [r for r in run(scenario) if r.asset_id not in targets]
        assert all(r.metrics["mains_ok"] for r in others)
        assert all(v(r, "door_close_s") < 5 for r in others if r.kind.value == "elevator")
