"""The runtime wires emergency plans: an alarm's emergency order starts its plan, late steps escalate on
their own, and the API serves the run (real Mosquitto, SQLite records, accelerated clock)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.clock import AcceleratedClock
from core.domain import Severity, Site, WorkOrderAction, WorkOrderKind, WorkOrderPriority
from facmon.runtime import Runtime, build_runtime
from tests.runtimes import local_runtime_settings

pytestmark = pytest.mark.integration

START = datetime(2026, 1, 5, 22, 0, tzinfo=UTC)
SPEED = 600.0  # ten simulated minutes per wall second


@pytest.fixture
def runtime(mosquitto: Any, tmp_path: Path, unique_site: str) -> Iterator[Runtime]:
    settings = local_runtime_settings(mosquitto, tmp_path, f"collector-{unique_site}")
    built = build_runtime(settings, AcceleratedClock(START, speed=SPEED))
    built.register([Site(unique_site, "Tower")], [])
    built.start()
    yield built
    built.stop()


def test_a_power_cut_order_starts_its_plan_and_a_late_step_escalates_by_itself(runtime: Runtime,
                                                                               unique_site: str) -> None:
    alarm, _ = runtime.db.alarms.raise_alarm("site_power_cut", unique_site, unique_site, Severity.CRITICAL,
                                             "Power cut", runtime.clock.now())
    order, _ = runtime.book.open(WorkOrderKind.EMERGENCY, WorkOrderPriority.EMERGENCY, "Power cut", unique_site,
                                 alarm_id=alarm.id)
    with httpx.Client(base_url=f"http://127.0.0.1:{runtime.settings.api.port}",
                      timeout=5) as api:
        [run] = api.get("/api/v1/emergency/runs", params={"work_order": order.id}).raise_for_status().json()["items"]
        assert run["plan"] == "site_power_cut"
        deadline = time.monotonic() + 10  # the first step is due 5 simulated minutes (0.5 s) after the start
        while time.monotonic() < deadline:
            steps = api.get(f"/api/v1/emergency/runs/{run['id']}").raise_for_status().json()["steps"]
            if steps[0]["escalated_at"] is not None:
                break
            time.sleep(0.1)
    assert steps[0]["escalated_at"] is not None
    assert any(e.action is WorkOrderAction.ESCALATION for e in runtime.db.work_orders.history(order.id))
