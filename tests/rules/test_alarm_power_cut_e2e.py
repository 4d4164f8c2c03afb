"""A site power cut end to end (simulators -> real Mosquitto -> collector -> rules -> API): ONE site
alarm and one emergency work order; the assets' own alarms are suppressed and listed under it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.clock import AcceleratedClock
from core.domain import Asset, AssetKind, Site
from core.settings import load_settings
from facmon.broker import free_port
from facmon.runtime import Runtime, build_runtime
from simulators.portfolio import Portfolio
from simulators.runner import SimulatorRunner
from simulators.scenario import Fault, Scenario

pytestmark = pytest.mark.integration

START = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)  # daytime: lights off by schedule before the cut
SPEED = 600.0  # ten simulated minutes per wall second


@pytest.fixture
def runtime(mosquitto: Any, tmp_path: Path, unique_site: str) -> Iterator[Runtime]:
    settings = load_settings(
        mqtt={"host": mosquitto.host, "port": mosquitto.port, "client_id": f"collector-{unique_site}",
              "protocol": "5"},
        telemetry={"backend": "sqlite", "sqlite_path": tmp_path / "telemetry.sqlite3"},
        database={"url": f"sqlite:///{tmp_path / 'records.sqlite3'}"},
        collector={"spool_dir": tmp_path / "spool"},
        api={"port": free_port()}, auth={"required": False},  # loopback: the local admin
    )
    built = build_runtime(settings, AcceleratedClock(START, speed=SPEED))
    site = unique_site
    assets = [Asset(f"{site}-pump-1", site, AssetKind.PUMP, "Duty pump", attributes={"role": "duty"}),
              Asset(f"{site}-pump-2", site, AssetKind.PUMP, "Standby pump", attributes={"role": "standby"}),
              Asset(f"{site}-lift-1", site, AssetKind.ELEVATOR, "Lift A"),
              *(Asset(f"{site}-light-{i}", site, AssetKind.LIGHTING, f"Circuit {i}", report_interval_s=300)
                for i in range(1, 5))]
    built.register([Site(site, "Power-cut tower")], assets)
    built.start()
    yield built
    built.stop()


def test_power_cut_raises_one_site_alarm_not_a_flood(runtime: Runtime, mosquitto: Any, unique_site: str) -> None:
    assets = runtime.db.assets.list(site_id=unique_site)
    scenario = Scenario([Fault("power_cut", unique_site, timedelta(minutes=20), timedelta(hours=2))])
    simulators = SimulatorRunner(Portfolio(runtime.db.assets.sites(), assets), runtime.clock,
                                 mosquitto.host, mosquitto.port, seed=5, scenario=scenario)
    api = httpx.Client(base_url=f"http://127.0.0.1:{runtime.settings.api.port}",
                       timeout=5)
    simulators.start()
    try:
        deadline = time.monotonic() + 60
        shown: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            shown = api.get("/api/v1/alarms", params={"suppressed": False}).raise_for_status().json()["items"]
            if any(a["rule_id"] == "site_power_cut" for a in shown):
                break
            time.sleep(0.25)
        time.sleep(60 * 30 / SPEED)  # half an hour more of the cut: every asset has noticed by now
        shown = api.get("/api/v1/alarms", params={"suppressed": False}).raise_for_status().json()["items"]
        assert [(a["rule_id"], a["asset_id"]) for a in shown] == [("site_power_cut", unique_site)]
        [cut] = shown
        detail = api.get(f"/api/v1/alarms/{cut['id']}").raise_for_status().json()
        under = {a["asset_id"] for a in detail["suppressed"]}
        assert len(under) >= 5  # the pumps' and lights' own alarms, listed under the site alarm
        assert all(a["suppressed_by"] == cut["id"] for a in detail["suppressed"])
        orders = api.get("/api/v1/workorders").raise_for_status().json()["items"]
        assert [(o["alarm_id"], o["priority"]) for o in orders] == [(cut["id"], "emergency")]
    finally:
        simulators.stop()
        api.close()
