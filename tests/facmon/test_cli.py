"""The command line: help, rule checking and clear errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from facmon.cli import main

DEFAULT_PACK = Path(__file__).parents[2] / "rules" / "default_rules.yaml"


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    for command in ("demo", "serve", "sim", "rules", "db", "bench"):
        assert command in out


def test_rules_check_lists_the_rules_of_a_valid_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "check", str(DEFAULT_PACK)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"\d+ rules OK", out)  # the pack grows
    assert "pump_burst_pipe" in out


def test_rules_check_reports_a_bad_file_with_its_location(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - id: x\n    applies_to: pump\n    when: 'flow_m3h >'\n    severity: high\n"
                   "    message: m\n")
    assert main(["rules", "check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml" in err
    assert "when" in err


def test_db_upgrade_creates_the_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACMON_DATABASE__URL", f"sqlite:///{tmp_path / 'records.sqlite3'}")
    assert main(["db", "upgrade"]) == 0
    assert (tmp_path / "records.sqlite3").stat().st_size > 0
