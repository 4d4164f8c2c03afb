"""Backtest: the pure replay with chatter detection, and `facmon rules backtest` over a stored stream."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from core.domain import Reading
from facmon.cli import main
from rules.backtest import backtest
from rules.pack import default_rules, parse_rules
from simulators.portfolio import default_portfolio
from simulators.scenario import DEMO_START, Fault, Scenario
from simulators.simulation import Simulation
from storage.records import Database
from storage.sqlite_telemetry import SqliteTelemetryStore

FLAPPY = parse_rules("""\
rules:
  - id: flappy
    applies_to: pump
    when: "vibration_mm_s > 2"
    severity: low
    message: "m"
""")


def _stream(hours: float, scenario: Scenario | None = None) -> list[Reading]:
    portfolio = default_portfolio()
    simulation = Simulation(portfolio, DEMO_START, seed=3, scenario=scenario, max_catch_up=100_000)
    return simulation.due(DEMO_START + timedelta(hours=hours))


def test_backtest_counts_episodes_per_rule_and_chatter() -> None:
    pump = _stream(0.5)[0]
    readings = [Reading(pump.site_id, pump.kind, "p1", DEMO_START + timedelta(seconds=10 * i),
                        {"vibration_mm_s": 3.0 if i % 2 else 1.0}) for i in range(12)]
    report = backtest(FLAPPY, readings)
    assert (report.readings, report.alarms, report.cleared) == (12, 6, 5)  # still raised at the end
    assert report.as_json()["chatter"] == {"flappy": ["p1"]}  # raised 3 times within a minute
    calm = [Reading(pump.site_id, pump.kind, "p1", DEMO_START + timedelta(minutes=2 * i),
                    {"vibration_mm_s": 3.0 if i % 2 else 1.0}) for i in range(12)]
    assert backtest(FLAPPY, calm).as_json()["chatter"] == {}


def test_facmon_rules_backtest_reads_the_configured_store(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    portfolio = default_portfolio()
    db = Database(f"sqlite:///{tmp_path / 'records.sqlite3'}")
    db.upgrade()
    for site in portfolio.sites:
        db.assets.upsert_site(site)
    for asset in portfolio.assets:
        db.assets.upsert_asset(asset)
    db.dispose()
    store = SqliteTelemetryStore(tmp_path / "telemetry.sqlite3")
    scenario = Scenario((Fault("burst_pipe", "harbour-pump-1", timedelta(hours=1), timedelta(minutes=30)),))
    store.write(_stream(3, scenario))
    store.close()
    config = tmp_path / "facmon.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "records.sqlite3"}"\n'
                      f'[telemetry]\nsqlite_path = "{tmp_path / "telemetry.sqlite3"}"\n')
    pack = Path(__file__).parents[2] / "rules" / "default_rules.yaml"
    until = (DEMO_START + timedelta(hours=3)).isoformat()
    assert main(["rules", "backtest", str(pack), "--from", DEMO_START.isoformat(), "--to", until,
                 "--config", str(config)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["rules"] == len(default_rules())
    assert report["episodes"] == {"pump_burst_pipe": 1}
    assert report["assets"] == {"pump_burst_pipe": 1}
    assert report["chatter"] == {}
    assert report["readings"] > 1000
