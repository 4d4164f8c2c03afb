"""The runtime wires inspection rounds: templates from the settings, rounds generated ahead at start."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from core.clock import AcceleratedClock
from core.domain import Asset, AssetKind, Site
from core.settings import load_settings
from facmon.runtime import build_runtime
from storage.records.inspections import RoundFilter

SITE_FILE = """
templates:
  pump_round:
    title: Site pump check
    asset_kind: pump
    every_days: 1
    anchor: 2026-01-01
    sets:
      - {name: daily, every: 1, items: [{id: leaks, text: No leaks}]}
"""


def test_the_runtime_generates_rounds_from_the_site_template_file_when_its_tasks_start(tmp_path: Path) -> None:
    (tmp_path / "rounds.yaml").write_text(SITE_FILE, encoding="utf-8")
    settings = load_settings(telemetry={"backend": "sqlite", "sqlite_path": tmp_path / "telemetry.sqlite3"},
                             database={"url": f"sqlite:///{tmp_path / 'records.sqlite3'}"},
                             collector={"spool_dir": tmp_path / "spool"},
                             inspections={"templates": tmp_path / "rounds.yaml", "horizon_days": 3})
    runtime = build_runtime(settings, AcceleratedClock(datetime(2026, 3, 2, 6, tzinfo=UTC), speed=1))
    runtime.register([Site("s1", "S1")], [Asset("p1", "s1", AssetKind.PUMP, "P1")])
    tasks = runtime.inspection_tasks()
    for task in tasks:
        task.start()
    try:
        deadline = time.monotonic() + 5
        while not (found := runtime.db.inspections.list(RoundFilter())) and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        for task in tasks:
            task.stop()
        runtime.store.close()
        runtime.db.dispose()
    assert runtime.inspections is not None
    assert runtime.inspections.templates["pump_round"].title == "Site pump check"
    assert [(r.template, r.asset_id, r.due_at.day) for r in found] == [("pump_round", "p1", d) for d in (2, 3, 4)]
