"""Every site stops at once (simulated devices on two sites lose their network: the broker publishes their
last wills) -> real Mosquitto -> collector -> rules: ONE portfolio_silent alarm, no per-device flood; it
returns to normal when the devices report again."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from core.clock import AcceleratedClock
from core.domain import Alarm, Asset, AssetKind, Site
from facmon.runtime import Runtime, build_runtime
from rules.service import PORTFOLIO_ASSET, PORTFOLIO_RULE
from simulators.portfolio import Portfolio
from simulators.runner import SimulatorRunner
from simulators.scenario import Fault, Scenario
from tests.runtimes import local_runtime_settings

pytestmark = pytest.mark.integration

START = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
SPEED = 600.0  # ten simulated minutes per wall second


@pytest.fixture
def runtime(mosquitto: Any, tmp_path: Path, unique_site: str) -> Iterator[Runtime]:
    settings = local_runtime_settings(mosquitto, tmp_path, f"collector-{unique_site}",
                                      rules={"portfolio_silence_s": 300})
    built = build_runtime(settings, AcceleratedClock(START, speed=SPEED))
    sites = [Site(f"{unique_site}-{name}", name) for name in ("east", "west")]
    assets = [asset for site in sites for asset in (
        Asset(f"{site.id}-pump-1", site.id, AssetKind.PUMP, "Pump 1"),
        Asset(f"{site.id}-pump-2", site.id, AssetKind.PUMP, "Pump 2"),
        Asset(f"{site.id}-lift-1", site.id, AssetKind.ELEVATOR, "Lift"))]
    built.register(sites, assets)
    built.start()
    yield built
    built.stop()


def wait_for(condition: Callable[[], Any], seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    return condition()


def test_every_site_going_silent_raises_one_alarm_not_a_flood(runtime: Runtime, mosquitto: Any) -> None:
    sites = runtime.db.assets.sites()
    outage = [Fault("offline", site.id, timedelta(minutes=20), timedelta(minutes=60)) for site in sites]
    simulators = SimulatorRunner(Portfolio(sites, runtime.db.assets.list()), runtime.clock, mosquitto.host,
                                 mosquitto.port, seed=3, scenario=Scenario(outage))

    def silence() -> Alarm | None:
        return runtime.db.alarms.find_open(PORTFOLIO_RULE, PORTFOLIO_ASSET)

    began = runtime.clock.now()
    simulators.start()
    try:
        alarm = wait_for(silence, 30)
        assert alarm is not None
        assert alarm.state.is_active
        # The outage starts at 20 minutes; five minutes of silence later (plus a tick or two) it is raised.
        assert timedelta(minutes=25) <= alarm.started_at - began <= timedelta(minutes=32)
        assert "any of the 2 sites" in alarm.message
        time.sleep(60 * 30 / SPEED)  # half an hour more of the outage: every device's last will is in
        shown = [(a.rule_id, a.asset_id) for a in runtime.db.alarms.list(suppressed=False)]
        assert shown == [(PORTFOLIO_RULE, PORTFOLIO_ASSET)]
        assert runtime.rules.stats()["portfolio_silences"] == 1
        # The devices come back at 80 minutes: the alarm returns to normal, one occurrence only.
        back = wait_for(lambda: (found := silence()) is not None and not found.state.is_active and found, 30)
        assert back
        assert back.occurrences == 1
        time.sleep(60 * 10 / SPEED)  # past the settle: nobody is really offline
        shown = [(a.rule_id, a.asset_id) for a in runtime.db.alarms.list(suppressed=False)]
        assert shown == [(PORTFOLIO_RULE, PORTFOLIO_ASSET)]
    finally:
        simulators.stop()
