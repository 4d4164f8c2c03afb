"""`facmon plan` on a real SQLite database with the demo's portfolio and roster: table, JSON, exports."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import vobject

from facmon.cli import main
from people.records import PeopleRecords
from people.roster import DEFAULT_ROSTER, load_roster
from simulators.portfolio import default_portfolio
from storage.records import Database


@pytest.fixture
def config(tmp_path: Path) -> Path:
    db = Database(f"sqlite:///{tmp_path / 'records.sqlite3'}")
    db.upgrade()
    portfolio = default_portfolio()
    for site in portfolio.sites:
        db.assets.upsert_site(site)
    for asset in portfolio.assets:
        db.assets.upsert_asset(asset)
    today = datetime.now(UTC).date()
    PeopleRecords(db).install(load_roster(DEFAULT_ROSTER), today - timedelta(days=1), today + timedelta(days=40),
                              datetime.now(UTC))
    db.dispose()
    path = tmp_path / "facmon.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "records.sqlite3"}"\n[planner]\ntime_limit_s = 5\n')
    return path


def test_plan_prints_a_table_with_explanations_and_replanning_changes_nothing(
        config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--config", str(config), "--horizon-days", "30"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("plan 1 (")
    assert lines[1].split() == ["id", "day", "technician", "asset", "task", "explanation"]
    assert any("regulatory minimum" in line for line in lines[2:])
    assert main(["plan", "--config", str(config), "--horizon-days", "30", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    rows = [line for line in lines[2:] if not line.startswith("not placed: ")]
    assert (again["opened"], again["moved"], again["dropped"], again["tasks"]) == (0, 0, 0, len(rows))
    assert len(again["unplaced"]) == len(lines) - 2 - len(rows)
    assert not any(u["regulatory"] for u in again["unplaced"])
    assert all(item["explanation"] for item in again["items"])


def test_plan_exports_csv_and_a_technicians_calendar(config: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "tom.ics"
    assert main(["plan", "--config", str(config), "--horizon-days", "30", "--export", "ics", "--technician", "tom",
                 "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    events = vobject.readOne(out.read_text()).vevent_list
    assert events
    assert all("Elevator" in e.summary.value or "Door" in e.summary.value for e in events)
    assert main(["plan", "--config", str(config), "--export", "csv", "--site", "harbour"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows
    assert {r["site_id"] for r in rows} == {"harbour"}
    assert main(["plan", "--config", str(config), "--export", "ics"]) == 2  # neither technician nor site
