"""Commands find the last demo's data instead of creating an empty ./facmon.sqlite3 (issue 12 §8)."""

from __future__ import annotations

import json
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.domain import DeadLetter
from core.errors import ConfigError
from facmon.cli import main
from facmon.demo_publish import demo_ts_expression
from facmon.workspace import DemoPlace, command_settings, last_demo, record_demo
from storage.records import Database


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with no database, a private state directory, no database in the environment."""
    monkeypatch.setenv("FACMON_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("FACMON_DATABASE__URL", raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def _demo_with_a_dead_letter(tmp_path: Path) -> DemoPlace:
    data = tmp_path / "demo-data"
    data.mkdir()
    db = Database(f"sqlite:///{data / 'facmon.sqlite3'}")
    db.upgrade()
    db.dead_letters.add(DeadLetter(0, datetime(2026, 1, 5, tzinfo=UTC), "facmon/v1/s/pump/p/telemetry",
                                   "invalid_json", "not JSON", b"bad-q0-1"))
    db.dispose()
    place = DemoPlace(data_dir=str(data), database_url=f"sqlite:///{data / 'facmon.sqlite3'}",
                      telemetry_path=str(data / "telemetry.sqlite3"), broker_host="127.0.0.1", broker_port=1883,
                      api_port=8080, pid=1)
    record_demo(place)
    return place


def test_without_a_database_a_command_says_what_to_do_and_creates_nothing(elsewhere: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["deadletters", "list"]) == 2
    assert "run `facmon demo` first" in capsys.readouterr().err
    assert list(elsewhere.iterdir()) == []


def test_deadletters_list_finds_the_last_demos_letters(elsewhere: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    _demo_with_a_dead_letter(tmp_path)
    assert main(["deadletters", "list"]) == 0
    letters = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [letter["payload"] for letter in letters] == ["bad-q0-1"]
    assert list(elsewhere.iterdir()) == []


def test_a_database_named_in_the_environment_wins_over_the_demo(elsewhere: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    _demo_with_a_dead_letter(tmp_path)
    monkeypatch.setenv("FACMON_DATABASE__URL", f"sqlite:///{tmp_path / 'absent.sqlite3'}")
    with pytest.raises(ConfigError, match=r"absent\.sqlite3"):
        command_settings(None)


def test_the_recorded_place_reads_back(elsewhere: Path, tmp_path: Path) -> None:
    place = _demo_with_a_dead_letter(tmp_path)
    assert last_demo() == place
    assert command_settings(None).database.url == place.database_url


def test_the_printed_timestamp_is_the_demos_time_when_the_line_runs() -> None:
    sim_now, wall_now, speed = datetime(2026, 1, 5, 17, 0, tzinfo=UTC), time.time(), 1008.0
    time.sleep(1.1)
    shell = subprocess.run(["bash", "-c", f"echo {demo_ts_expression(sim_now, speed, wall_now)}"],
                           capture_output=True, text=True, check=True, timeout=10)
    demo_now = sim_now.timestamp() + (time.time() - wall_now) * speed
    ts = int(shell.stdout)
    assert demo_now - 3 * speed <= ts <= demo_now  # behind by a wall second or two, never ahead
