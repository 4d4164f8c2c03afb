"""Two runtimes with ``events.channel = "postgresql"`` on one records database (real Mosquitto and
PostgreSQL): an alarm one raises reaches a console streaming from the other's API, and the other's own
subscribers hear its work order."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from core.clock import WallClock
from core.domain import Asset, AssetKind, Reading, Site
from core.events import Event
from facmon.runtime import Runtime, build_runtime
from tests.api.test_routes_events import next_message, stream
from tests.runtimes import local_runtime_settings

pytestmark = pytest.mark.integration


@pytest.fixture
def runtimes(mosquitto: Any, pg_url: str, tmp_path: Path, unique_site: str) -> Iterator[tuple[Runtime, Runtime]]:
    started: list[Runtime] = []
    try:
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            settings = local_runtime_settings(mosquitto, tmp_path / name, f"collector-{unique_site}-{name}",
                                              database={"url": pg_url}, events={"channel": "postgresql"})
            runtime = build_runtime(settings, WallClock())
            runtime.register([Site(unique_site, "Tower")],
                             [Asset(f"{unique_site}-pump", unique_site, AssetKind.PUMP, "Booster pump")])
            runtime.start()
            started.append(runtime)
        yield started[0], started[1]
    finally:
        for runtime in started:
            runtime.stop()


def test_an_alarm_raised_in_one_runtime_reaches_the_other_runtimes_stream_and_subscribers(
        runtimes: tuple[Runtime, Runtime], unique_site: str) -> None:
    raising, serving = runtimes
    assert raising.events is not None
    assert serving.bus.shared
    heard: list[Event] = []
    serving.bus.subscribe(heard.append, "workorder.opened")
    asset = f"{unique_site}-pump"
    start = raising.clock.now() - timedelta(minutes=6)
    with stream(f"http://127.0.0.1:{serving.settings.api.port}/api/v1/events?topic=alarm.raised") as lines:
        for minute in range(6):  # a burst pipe: flow up, pressure down, for five minutes
            raising.rules.process([Reading(unique_site, AssetKind.PUMP, asset, start + timedelta(minutes=minute),
                                           {"running": True, "flow_m3h": 72.0, "discharge_bar": 0.9,
                                            "suction_bar": 1.2, "vibration_mm_s": 1.4, "bearing_temp_c": 48.0,
                                            "mains_ok": True})])
        _, topic, data = next_message(lines)
    assert (topic, data["rule_id"], data["asset_id"]) == ("alarm.raised", "pump_burst_pipe", asset)
    deadline = time.monotonic() + 5
    while not heard and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [event.data["asset_id"] for event in heard] == [asset]
