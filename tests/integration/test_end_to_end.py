"""End to end: simulated pump -> real Mosquitto -> collector -> rules -> alarm and work order, seen via HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.clock import AcceleratedClock
from core.domain import Asset, AssetKind, Site
from facmon.runtime import Runtime, build_runtime
from simulators.portfolio import Portfolio
from simulators.runner import SimulatorRunner
from simulators.scenario import Fault, Scenario
from tests.runtimes import local_runtime_settings

pytestmark = pytest.mark.integration

START = datetime(2026, 1, 5, 17, 0, tzinfo=UTC)


@pytest.fixture
def runtime(mosquitto: Any, tmp_path: Path, unique_site: str) -> Iterator[Runtime]:
    settings = local_runtime_settings(mosquitto, tmp_path, f"collector-{unique_site}")
    clock = AcceleratedClock(START, speed=600)  # ten simulated minutes per second
    built = build_runtime(settings, clock)
    site = Site(unique_site, "E2E tower")
    pump = Asset(f"{unique_site}-pump-1", unique_site, AssetKind.PUMP, "Booster pump 1",
                 attributes={"role": "duty"})
    built.register([site], [pump])
    built.start()
    yield built
    built.stop()


def poll(fetch: Callable[[], list[dict[str, Any]]], timeout_s: float = 60.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if found := fetch():
            return found
        time.sleep(0.25)
    raise AssertionError(f"nothing appeared within {timeout_s} s")


def test_burst_pipe_opens_one_emergency_work_order_visible_through_the_api(
        runtime: Runtime, mosquitto: Any) -> None:
    assets = runtime.db.assets.list()
    pump = assets[0]
    scenario = Scenario([Fault("burst_pipe", pump.id, timedelta(minutes=20), timedelta(hours=2))])
    simulators = SimulatorRunner(Portfolio(runtime.db.assets.sites(), assets), runtime.clock,
                                 mosquitto.host, mosquitto.port, seed=3, scenario=scenario)
    api = httpx.Client(base_url=f"http://127.0.0.1:{runtime.settings.api.port}",
                       timeout=5)
    simulators.start()
    try:
        def burst_alarms() -> list[dict[str, Any]]:
            alarms: list[dict[str, Any]] = api.get("/api/v1/alarms").raise_for_status().json()["items"]
            return [a for a in alarms if a["rule_id"] == "pump_burst_pipe" and a["asset_id"] == pump.id]

        [alarm] = poll(burst_alarms)
        assert alarm["severity"] == "critical"

        def linked_orders() -> list[dict[str, Any]]:
            orders: list[dict[str, Any]] = api.get("/api/v1/workorders").raise_for_status().json()["items"]
            return [o for o in orders if o["alarm_id"] == alarm["id"]]

        [order] = poll(linked_orders)
        assert order["priority"] == "emergency"
        assert order["asset_id"] == pump.id
        detail = api.get(f"/api/v1/alarms/{alarm['id']}").raise_for_status().json()
        assert detail["work_order_id"] == order["id"]
        # The fault goes on for two simulated hours: still exactly one alarm and one work order.
        time.sleep(3)
        assert len(burst_alarms()) == 1
        assert len(linked_orders()) == 1
        assert runtime.db.dead_letters.count() == 0
    finally:
        simulators.stop()
        api.close()
