"""`facmon report monthly` on a real SQLite database: the CSV and the HTML page carry the figures."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from facmon.cli import main
from storage.records import Database
from tests.workorders.month_data import seed_march


@pytest.fixture
def config(tmp_path: Path) -> Path:
    db = Database(f"sqlite:///{tmp_path / 'records.sqlite3'}")
    db.upgrade()
    seed_march(db)
    db.dispose()
    path = tmp_path / "facmon.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "records.sqlite3"}"\n'
                    f'[telemetry]\nsqlite_path = "{tmp_path / "telemetry.sqlite3"}"\n')
    return path


def test_report_monthly_writes_csv_and_html_with_the_months_figures(config: Path, tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["report", "monthly", "--site", "s1", "--month", "2026-03", "--out", str(out),
                 "--config", str(config)]) == 0
    assert capsys.readouterr().out.split() == [str(out / "figures-s1-2026-03.csv"),
                                               str(out / "figures-s1-2026-03.html")]
    rows = {row["kind"]: row for row in csv.DictReader((out / "figures-s1-2026-03.csv").open())}
    assert set(rows) == {"elevator", "pump", "all"}
    pumps = rows["pump"]
    # the hand-computed case of tests/workorders/test_figures.py; no run hours reported here: 744 h x 2 / 3
    assert (pumps["repairs"], pumps["repair_rate"], pumps["mttr_hours"]) == ("2", "1", "2.5")
    assert pumps["mtbf_hours"] == "496"
    assert (pumps["pm_compliance"], pumps["sla_normal"], pumps["repeat_failures"]) == ("0.5", "0.6667", "1")
    assert (rows["all"]["complaints"], pumps["complaints"]) == ("2", "")
    html = (out / "figures-s1-2026-03.html").read_text()
    assert html.count("<svg") == 3
    assert "<script" not in html
    assert "http" not in html
    assert "@media print" in html
    assert re.search(r"<th>mttr_hours</th><td>1.25</td><td>2.5</td><td>2.0833</td>", html)  # elevator, pump, all


def test_report_monthly_for_every_site_and_for_a_bad_month(config: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "monthly", "--site", "all", "--month", "2026-03", "--out", str(tmp_path),
                 "--config", str(config)]) == 0
    sites = {row["site_id"] for row in csv.DictReader((tmp_path / "figures-all-2026-03.csv").open())}
    assert sites == {"s1", "s2"}
    assert main(["report", "monthly", "--site", "s1", "--month", "2026-13", "--config", str(config)]) == 2
    assert "YYYY-MM" in capsys.readouterr().err
