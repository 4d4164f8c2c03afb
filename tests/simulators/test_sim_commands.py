"""`facmon sim history` and `facmon sim load` print one JSON object each."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from facmon.cli import main


def test_sim_history_writes_the_files_and_prints_a_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", "history", "--assets", "2", "--days", "20", "--step", "21600", "--out", str(tmp_path),
                 "--seed", "9", "--kinds", "pump,lighting"]) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert summary["assets"] == 4
    assert summary["seed"] == 9
    assert sorted(p.name for p in tmp_path.iterdir()) == ["failures.csv", "lighting.csv", "pump.csv"]
    assert "4/4 assets" in captured.err  # the progress bar


@pytest.mark.integration
def test_sim_load_prints_one_json_object(mosquitto: Any, unique_site: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", "load", "--host", mosquitto.host, "--port", str(mosquitto.port), "--devices", "50",
                 "--rate", "500", "--duration", "1", "--processes", "1", "--site", unique_site]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {"sent", "acknowledged", "seconds", "achieved_rate", "asked_rate", "devices", "processes",
                           "connections", "qos", "cpu_s"}
    assert result["acknowledged"] == result["sent"] >= 475
