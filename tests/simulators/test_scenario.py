"""Scenario files and fault timing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain import AssetKind
from core.errors import ConfigError
from simulators.lighting import is_scheduled_on
from simulators.portfolio import default_portfolio
from simulators.scenario import (
    DEMO_START,
    FAULT_KINDS,
    Fault,
    Scenario,
    demo_scenario,
    load_scenario,
    parse_duration,
    parse_scenario,
)
from tests.simulators.helpers import asset


@pytest.mark.parametrize(("text", "seconds"), [
    ("90s", 90), ("10m", 600), ("2h", 7200), ("1d", 86400), ("1h30m", 5400), ("1.5h", 5400), (45, 45), ("0s", 0),
])
def test_durations(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "2 hours", "h", "5", "-1h", "1w", True])
def test_bad_durations_are_refused(text: str | bool) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


@given(st.integers(0, 10_000), st.sampled_from("smhd"))
def test_any_whole_duration_reads_back(number: int, unit: str) -> None:
    assert parse_duration(f"{number}{unit}").total_seconds() == number * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit]


def test_a_scenario_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "faults.yaml"
    path.write_text("faults:\n  - {fault: burst_pipe, asset: harbour-pump-1, at: 2h, for: 1h}\n"
                    "  - {fault: power_cut, site: harbour, at: 1d}\n")
    scenario = load_scenario(path)
    assert list(scenario.faults) == [
        Fault("burst_pipe", "harbour-pump-1", timedelta(hours=2), timedelta(hours=1)),
        Fault("power_cut", "harbour", timedelta(days=1)),
    ]
    scenario.check(default_portfolio())
    assert parse_scenario("", "empty.yaml") == Scenario()


@pytest.mark.parametrize(("entry", "names"), [
    ("{fault: meteor, asset: a, at: 1h}", "meteor"),
    ("{fault: burst_pipe, at: 1h}", "exactly one of 'asset' or 'site'"),
    ("{fault: burst_pipe, asset: a, site: s, at: 1h}", "exactly one"),
    ("{fault: burst_pipe, site: s, at: 1h}", "take a site"),
    ("{fault: burst_pipe, asset: a}", "'at'"),
    ("{fault: burst_pipe, asset: a, at: soon}", "soon"),
    ("{fault: burst_pipe, asset: a, at: 1h, for: 0s}", "positive duration"),
    ("{fault: burst_pipe, asset: a, at: 1h, when: now}", "when"),
    ("burst_pipe", "must be a mapping"),
])
def test_errors_name_the_file_and_the_entry(entry: str, names: str) -> None:
    with pytest.raises(ConfigError, match=r"demo\.yaml: faults\[1\]") as caught:
        parse_scenario(f"faults:\n  - {{fault: offline, asset: a, at: 0s}}\n  - {entry}\n", "demo.yaml")
    assert names in str(caught.value)


@pytest.mark.parametrize(("fault", "names"), [
    (Fault("burst_pipe", "nowhere-1", timedelta(0)), "unknown asset"),
    (Fault("power_cut", "atlantis", timedelta(0)), "unknown asset or site"),
    (Fault("entrapment", "riverside-pump-1", timedelta(0)), "applies to elevator"),
])
def test_check_refuses_faults_that_do_not_fit_the_portfolio(fault: Fault, names: str) -> None:
    with pytest.raises(ConfigError, match=names):
        Scenario([fault]).check(default_portfolio())


def test_fault_is_active_from_its_start_for_its_duration_and_reports_its_age() -> None:
    pump = asset(AssetKind.PUMP, "s1-pump-1")
    scenario = Scenario([Fault("burst_pipe", pump.id, timedelta(hours=2), timedelta(hours=1)),
                         Fault("power_cut", "s1", timedelta(hours=5))])
    assert scenario.active(pump, timedelta(hours=1, minutes=59)) == {}
    assert scenario.active(pump, timedelta(hours=2, minutes=30)) == {"burst_pipe": 1800.0}
    assert scenario.active(pump, timedelta(hours=3)) == {}
    assert scenario.active(pump, timedelta(days=9)) == {"power_cut": 9 * 86400 - 5 * 3600}
    other = asset(AssetKind.PUMP, "s2-pump-1", site_id="s2")
    assert scenario.active(other, timedelta(days=9)) == {}


def test_demo_scenario_fits_the_default_portfolio_and_the_first_sixteen_hours() -> None:
    scenario = demo_scenario()
    scenario.check(default_portfolio())
    demo_faults = {"pump_bearing", "burst_pipe", "entrapment", "door_fault", "circuit_failure", "driver_overtemp",
                   "power_cut", "offline"}
    assert {fault.name for fault in scenario.faults} == demo_faults
    assert demo_faults <= set(FAULT_KINDS)
    assert all(fault.start <= timedelta(hours=16) for fault in scenario.faults)
    by_name = {fault.name: fault for fault in scenario.faults}
    assert (by_name["pump_bearing"].start, by_name["burst_pipe"].start, by_name["entrapment"].start,
            by_name["circuit_failure"].start, by_name["door_fault"].start) == tuple(
        timedelta(hours=hours) for hours in (1, 2, 3, 5, 8))
    pumps = {a.id: a for a in default_portfolio().assets if a.kind is AssetKind.PUMP}
    assert pumps[by_name["pump_bearing"].target].attributes["role"] == "duty"
    assert pumps[by_name["burst_pipe"].target].attributes["role"] == "duty"
    # The circuit fails while the lights are on (the demo starts on Monday 2026-01-05 at 17:00 in
    # Asia/Shanghai, the default portfolio's zone).
    shanghai = ZoneInfo("Asia/Shanghai")
    assert {site.time_zone for site in default_portfolio().sites} == {"Asia/Shanghai"}
    assert DEMO_START.astimezone(shanghai).isoformat() == "2026-01-05T17:00:00+08:00"
    assert DEMO_START.astimezone(shanghai).weekday() == 0
    assert is_scheduled_on((DEMO_START + by_name["circuit_failure"].start).astimezone(shanghai))
