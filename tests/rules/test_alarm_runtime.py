"""The alarm side wired into the runtime (real Mosquitto): checkpoint at stop, restore at start,
the collector's status followed on the bus."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from core.clock import ManualClock
from core.domain import AssetKind, Reading
from core.settings import load_settings
from facmon.broker import free_port
from facmon.runtime import build_runtime
from rules.service import COLLECTOR_ASSET, COLLECTOR_RULE

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
VIB = {"flow_m3h": 30.0, "discharge_bar": 4.5, "suction_bar": 1.0, "vibration_mm_s": 9.0,
       "bearing_temp_c": 50.0, "running": True, "mains_ok": True}


def test_runtime_checkpoints_at_stop_restores_at_start_and_follows_the_collector(mosquitto: Any,
                                                                                  tmp_path: Path) -> None:
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text("""
rules:
  - id: vib_high
    applies_to: pump
    when: "vibration_mm_s > 7.1"
    for: 10m
    severity: high
    message: "vibration {vibration_mm_s}"
""")
    settings = load_settings(
        mqtt={"host": mosquitto.host, "port": mosquitto.port, "client_id": f"alarms-{free_port()}",
              "protocol": "5"},
        telemetry={"backend": "sqlite", "sqlite_path": tmp_path / "telemetry.sqlite3"},
        database={"url": f"sqlite:///{tmp_path / 'records.sqlite3'}"},
        collector={"spool_dir": tmp_path / "spool"},
        api={"host": "127.0.0.1", "port": free_port()},
        rules={"use_default_pack": False, "files": [rules_file]},
    )
    clock = ManualClock(T0)
    first = build_runtime(settings, clock)
    first.start()
    try:
        first.rules.process([Reading("s", AssetKind.PUMP, "p", T0 + timedelta(minutes=m), VIB) for m in range(6)])
        for connected in (True, False):
            first.bus.publish("collector.status", {"connected": connected, "backlog": 0, "lagging": False,
                                                   "since": T0.isoformat()})
        assert first.db.alarms.find_open(COLLECTOR_RULE, COLLECTOR_ASSET) is not None
    finally:
        first.stop()  # saves the checkpoint

    second = build_runtime(settings, clock)
    second.start()  # restores it
    try:
        state = second.rules.engine.state("vib_high", "p")
        assert state is not None
        assert state.pending_since == T0
        second.rules.process([Reading("s", AssetKind.PUMP, "p", T0 + timedelta(minutes=10), VIB)])
        alarm = second.db.alarms.find_open("vib_high", "p")
        assert alarm is not None
        assert alarm.started_at == T0 + timedelta(minutes=10)
    finally:
        second.stop()
