"""A partition's standby, as runtimes in this process on real Mosquitto and PostgreSQL: it waits without
opening the spool, takes over when the holder stops (its MQTT session and spool), and nothing is lost."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from core.clock import WallClock
from core.domain import Asset, AssetKind, Site
from facmon.broker import free_port
from facmon.runtime import Runtime, build_runtime
from tests.runtimes import local_runtime_settings

pytestmark = pytest.mark.integration

METRICS = {"flow_m3h": 30.0, "discharge_bar": 4.5, "suction_bar": 1.0, "vibration_mm_s": 2.0,
           "bearing_temp_c": 50.0, "running": True, "mains_ok": True}


def wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s} s: {what}")
        time.sleep(0.05)


def state(runtime: Runtime) -> str:
    return str(runtime.stats()["partition"]["state"])


def test_a_standby_takes_over_a_stopped_partition_and_nothing_is_lost(
        mosquitto: Any, pg_url: str, tmp_path: Path, unique_site: str) -> None:
    settings = local_runtime_settings(mosquitto, tmp_path, f"part-{unique_site}", database={"url": pg_url},
                                      partition={"sites": [unique_site], "lease_s": 1.5},
                                      serve={"roles": ["ingest"]}, rules={"portfolio_silence_s": 0})
    pump = Asset(f"{unique_site}-pump", unique_site, AssetKind.PUMP, "Booster pump")
    active = build_runtime(settings, WallClock())
    active.register([Site(unique_site, "Partitioned tower")], [pump])
    lost: list[str] = []
    active.on_lost = lambda: lost.append("active")
    active.start()
    standby = build_runtime(settings.model_copy(update={"api": settings.api.model_copy(update={"port": free_port()})}),
                            WallClock())
    standby.on_lost = lambda: lost.append("standby")
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"dev-{unique_site}")
    publisher.connect(mosquitto.host, mosquitto.port)
    publisher.loop_start()
    topic = f"facmon/v1/{unique_site}/pump/{pump.id}/telemetry"
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)

    def publish(first: int, count: int) -> None:
        for n in range(first, first + count):
            payload = {"ts": (base + timedelta(seconds=n)).isoformat(), "seq": n, "metrics": METRICS}
            publisher.publish(topic, json.dumps(payload), qos=1).wait_for_publish(10)

    try:
        wait_for(lambda: state(active) == "active", "the first runtime takes the partition")
        standby.start()
        time.sleep(1.0)
        assert state(standby) == "standby"
        assert "spool" not in standby.stats()  # it has not opened the spool its holder writes
        publish(0, 200)
        wait_for(lambda: active.ingest.stats.stored >= 200, "the active stores the first readings")
        active.stop()  # a clean stop releases the lease: the standby takes it at its next try
        wait_for(lambda: state(standby) == "active", "the standby takes the partition over", timeout_s=10)
        publish(200, 200)
        wait_for(lambda: standby.ingest.stats.stored >= 200, "the standby stores the next readings")
        stored = standby.store.query(pump.id, "flow_m3h", base, base + timedelta(hours=1))
        assert [point[0] for point in stored] == [base + timedelta(seconds=n) for n in range(400)]
        assert lost == []
        leases = standby.db.leases.live(datetime.now(UTC))
        assert [(lease.name, lease.epoch) for lease in leases] == [(settings.partition.name, 2)]
    finally:
        publisher.loop_stop()
        publisher.disconnect()
        standby.stop()
