"""`facmon serve` as three processes on one PostgreSQL with `events.channel = "postgresql"` (real Mosquitto):
a partition (roles ingest) and two API replicas (roles api). An alarm the partition raises from MQTT
readings reaches a console streaming from the second replica, and the console resumes on the first
replica after the last id it saw (issue 13 §3 and §8)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.publish as mqtt_publish
import pytest

from core.domain import Asset, AssetKind, Site
from facmon.broker import free_port
from storage.records import Database
from tests.api.test_routes_events import next_message, stream

pytestmark = pytest.mark.integration


ROOT = Path(__file__).resolve().parents[2]  # this checkout's packages, not another installed copy


def serve(env: dict[str, str], folder: Path) -> subprocess.Popen[bytes]:
    folder.mkdir()
    log = (folder / "serve.log").open("wb")
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return subprocess.Popen([sys.executable, "-m", "facmon.cli", "serve"],
                            env={**os.environ, "PYTHONPATH": path, **env}, stdout=log, stderr=subprocess.STDOUT,
                            cwd=folder)


def wait_healthy(port: int, process: subprocess.Popen[bytes], log: Path, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, f"facmon serve exited with {process.returncode}: {log.read_text()[-2000:]}"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"facmon serve on port {port} did not answer /healthz")


@pytest.fixture
def deployment(mosquitto: Any, pg_url: str, tmp_path: Path, unique_site: str) -> Iterator[list[int]]:
    """The partition's and the two replicas' API ports, once all three answer."""
    db = Database(pg_url)
    db.upgrade()
    db.assets.upsert_site(Site(unique_site, "Tower"))
    db.assets.upsert_asset(Asset(f"{unique_site}-pump", unique_site, AssetKind.PUMP, "Booster pump"))
    db.dispose()
    common = {"FACMON_DATABASE__URL": pg_url, "FACMON_EVENTS__CHANNEL": "postgresql",
              "FACMON_MQTT__HOST": mosquitto.host, "FACMON_MQTT__PORT": str(mosquitto.port),
              "FACMON_AUTH__REQUIRED": "false", "FACMON_TELEMETRY__BACKEND": "sqlite"}
    ports = [free_port() for _ in range(3)]
    processes = []
    try:
        for n, (roles, port) in enumerate(zip(('["ingest"]', '["api"]', '["api"]'), ports, strict=True)):
            folder = tmp_path / f"p{n}"
            processes.append(serve({**common, "FACMON_SERVE__ROLES": roles, "FACMON_API__PORT": str(port),
                                    "FACMON_MQTT__CLIENT_ID": f"collector-{unique_site}-{n}",
                                    "FACMON_TELEMETRY__SQLITE_PATH": str(folder / "telemetry.sqlite3"),
                                    "FACMON_COLLECTOR__SPOOL_DIR": str(folder / "spool")}, folder))
        for n, (port, process) in enumerate(zip(ports, processes, strict=True)):
            wait_healthy(port, process, tmp_path / f"p{n}" / "serve.log")
        yield ports
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def publish_burst_pipe(mosquitto: Any, site: str) -> None:
    """Six minutes of a burst pipe's readings (flow up, pressure down), QoS 1, as a device would send them."""
    asset, start = f"{site}-pump", datetime.now(UTC) - timedelta(minutes=6)
    metrics = {"running": True, "flow_m3h": 72.0, "discharge_bar": 0.9, "suction_bar": 1.2,
               "vibration_mm_s": 1.4, "bearing_temp_c": 48.0, "mains_ok": True}
    messages = [{"topic": f"facmon/v1/{site}/pump/{asset}/telemetry", "qos": 1,
                 "payload": json.dumps({"ts": (start + timedelta(minutes=m)).isoformat(), "metrics": metrics})}
                for m in range(6)]
    mqtt_publish.multiple(messages, hostname=mosquitto.host, port=mosquitto.port)


def test_an_alarm_of_the_partition_process_reaches_a_console_on_the_second_replica_which_resumes_on_the_first(
        deployment: list[int], mosquitto: Any, unique_site: str) -> None:
    _partition, first, second = deployment
    with stream(f"http://127.0.0.1:{second}/api/v1/events") as lines:
        publish_burst_pipe(mosquitto, unique_site)
        alarm_id, topic, alarm = next_message(lines)
        while topic != "alarm.raised":
            alarm_id, topic, alarm = next_message(lines)
    assert (alarm["rule_id"], alarm["asset_id"]) == ("pump_burst_pipe", f"{unique_site}-pump")
    # The partition opened the alarm's work order after raising it: the console, reconnecting to the
    # other replica with the id it last saw, gets it (and nothing before it).
    with stream(f"http://127.0.0.1:{first}/api/v1/events", {"Last-Event-ID": alarm_id}) as lines:
        next_id, topic, order = next_message(lines)
    assert (topic, order["alarm_id"]) == ("workorder.opened", alarm["id"])
    assert int(next_id.rpartition("-")[2]) > int(alarm_id.rpartition("-")[2])
