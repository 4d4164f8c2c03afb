"""`facmon demo` end to end: embedded broker, simulators, collector, rules, predictor and API in one process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from facmon.broker import free_port
from facmon.cli import main

pytestmark = pytest.mark.integration


def test_demo_reports_readings_alarms_work_orders_and_forecasts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("FACMON_STATE_DIR", str(tmp_path / "state"))  # where the demo records its data dir
    summary_file = tmp_path / "summary.json"
    exit_code = main(["demo", "--duration", "40", "--port", str(free_port()), "--data-dir", str(tmp_path / "data"),
                      "--summary-json", str(summary_file)])
    assert exit_code == 0
    summary = json.loads(summary_file.read_text())
    assert summary["readings"] > 1000
    assert summary["alarms"] >= 1
    assert summary["work_orders"] >= 1
    assert summary["forecasts"] >= 1
    # Forecasts with their intervals and a maintenance plan with planned work orders, each task explaining itself
    # (the simulated technicians may have worked every task of the plan already: open or done, it is shown).
    assert any("P10" in forecast["rul"] for forecast in summary["forecasts_preview"])
    assert all(forecast["why"] for forecast in summary["forecasts_preview"])
    assert summary["planned_orders"] >= 1
    assert summary["plan"]
    assert all(task["why"] for task in summary["plan"])
    # Simulated operations alongside: residents' requests and complaints, a round, a plan worked, call-backs.
    for count in ("requests", "complaints", "rounds_completed", "plans_worked", "follow_ups"):
        assert summary[count] > 0, count
    # The only dead letters are the malformed messages the demo injects on purpose.
    assert summary["dead_letters"] == summary["dead_letters_injected"]
    assert summary["dead_letters_injected"] >= 1
    # The demo said where its broker is, and a command run elsewhere finds the demo's dead letters.
    assert "mosquitto_pub -h 127.0.0.1 -p " in capsys.readouterr().out
    monkeypatch.chdir(tmp_path / "state")
    monkeypatch.delenv("FACMON_DATABASE__URL", raising=False)
    assert main(["deadletters", "list"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == summary["dead_letters"]
