"""`facmon bench workorders` on a tiny size against the test PostgreSQL: the promised fields, and numbers
that add up (every order loaded, one event per milestone, every walk done, no lost update)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from facmon.cli import main
from storage.records import Database
from storage.records.models import WorkOrderEventRow, WorkOrderRow


@pytest.mark.integration
def test_bench_workorders_prints_one_json_object_whose_numbers_add_up(pg_url: str,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    args = ["bench", "workorders", "--database-url", pg_url, "--orders", "3000", "--sites", "10",
            "--clients", "2", "--walks", "5", "--list-queries", "20"]
    assert main(args) == 0
    result = json.loads(capsys.readouterr().out)
    for key in ("orders", "events", "transitions_per_s", "list_p99_ms", "monthly_report_s"):
        assert key in result
    assert result["transitions"] == 2 * 5 * 8  # each walk goes around the whole loop: 8 steps
    assert result["transition_conflicts"] == 0
    assert 0 < result["list_p50_ms"] <= result["list_p99_ms"]
    assert result["report_rows"]["all_sites"] == 10 * 4  # three asset kinds and "all" per site
    database = Database(pg_url)
    try:
        with database.engine.connect() as connection:
            orders = connection.scalar(select(func.count()).select_from(WorkOrderRow))
            events = connection.scalar(select(func.count()).select_from(WorkOrderEventRow))
    finally:
        database.dispose()
    assert orders == 3000 + 2 * 5  # the loaded ones and the walked ones
    assert events == result["events"] + 2 * 5 * (1 + 8)  # each walked order: opened, then 8 steps
