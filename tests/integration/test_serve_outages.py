"""`facmon serve` without its dependencies (issue 13 §6): started while InfluxDB is down, SIGKILLed in the
middle of the outage, started again, it loses nothing once InfluxDB returns; started while the broker is
down, it connects when the broker comes up. Meanwhile /healthz says degraded (HTTP 200), /metrics says
which dependency is down and facmon raises its own alarm.

Each test starts its own InfluxDB or Mosquitto (down at first) so the session's services stay up for others.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from core.domain import Site
from facmon.broker import free_port
from facmon.services import InfluxDB, Mosquitto, Postgres, discard_service, make_service_dir
from storage.records import Database
from tests.integration.ingest_helpers import DEVICES, Publisher, count_points, load_assets, stored_points, wait_for

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
BEFORE_KILL, WHILE_DEAD = 1500, 1500  # messages published to the first instance, then while none runs


class Serve:
    """`facmon serve --config` as a child process that the test can SIGKILL; its /healthz and /metrics."""

    def __init__(self, config: Path, port: int, log: Path) -> None:
        self.config, self.url, self.log = config, f"http://127.0.0.1:{port}", log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.launch()
        self.wait_answering()

    def launch(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "facmon.cli", "--log-level", "info", "serve", "--config", str(self.config)],
                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)

    def wait_answering(self) -> None:
        wait_for(self._answers, 90, f"facmon serve to answer /healthz (log: {self.log})")

    def _answers(self) -> bool:
        assert self.process is not None
        assert self.process.poll() is None, f"facmon serve exited with {self.process.returncode}: {self.tail()}"
        try:
            return httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def health(self) -> dict[str, Any]:
        response = httpx.get(f"{self.url}/healthz", timeout=5)
        assert response.status_code == 200  # degraded or not: alive, so liveness must not kill it
        return dict(response.json())

    def sample(self, metric: str, /, **labels: str) -> float:
        """One sample of GET /metrics, read with prometheus_client's parser (0 when absent)."""
        text = httpx.get(f"{self.url}/metrics", timeout=5).text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == metric and sample.labels == labels:
                    return float(sample.value)
        return 0.0

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return None

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def write_config(folder: Path, mqtt: tuple[str, int], influx_url: str | None, database: str, site: str,
                 records: str | None = None) -> Serve:
    """The TOML of one instance (its own spool; records in SQLite with its site's pumps registered, unless
    ``records`` names another database)."""
    if records is None:
        records = f"sqlite:///{folder / 'records.sqlite3'}"
        db = Database(records)
        db.upgrade()
        db.assets.upsert_site(Site(site, site))
        for asset in load_assets(DEVICES, site):
            db.assets.upsert_asset(asset)
        db.dispose()
    telemetry = (f'backend = "influxdb"\ninflux_url = "{influx_url}"\ninflux_database = "{database}"'
                 if influx_url else f'backend = "sqlite"\nsqlite_path = "{folder / "telemetry.sqlite3"}"')
    port = free_port()
    config = folder / "facmon.toml"
    config.write_text(f"""
[mqtt]
host = "{mqtt[0]}"
port = {mqtt[1]}
client_id = "serve-{site}"
reconnect_min_s = 0.2
reconnect_max_s = 1.0

[telemetry]
{telemetry}

[database]
url = "{records}"

[collector]
spool_dir = "{folder / 'spool'}"
retry_max_s = 1.0
lag_threshold_s = 3.0

[api]
port = {port}

[auth]
required = false
""")
    return Serve(config, port, folder / "serve.log")


@pytest.fixture
def down_influxdb() -> Iterator[InfluxDB]:
    """An InfluxDB of this test, not started yet."""
    service = InfluxDB(make_service_dir("influxdb"))
    yield service
    discard_service(service)


@pytest.fixture
def down_mosquitto() -> Iterator[Mosquitto]:
    service = Mosquitto(make_service_dir("mosquitto"))
    yield service
    discard_service(service)


def own_alarm(folder: Path, rule_id: str) -> Any:
    """facmon's own alarm ``rule_id`` of this instance (partition "all"), read from its records."""
    db = Database(f"sqlite:///{folder / 'records.sqlite3'}")
    try:
        return db.alarms.find_open(rule_id, "all")
    finally:
        db.dispose()


def test_started_while_influxdb_is_down_and_killed_mid_outage_it_loses_nothing_once_influxdb_returns(
        mosquitto: Any, down_influxdb: InfluxDB, unique_site: str, tmp_path: Path) -> None:
    database = f"serve_{secrets.token_hex(4)}"
    serve = write_config(tmp_path, (mosquitto.host, mosquitto.port), down_influxdb.url, database, unique_site)
    publisher = Publisher(mosquitto.host, mosquitto.port, unique_site)
    try:
        serve.start()  # InfluxDB down: it starts anyway
        health = serve.health()
        assert health["status"] == "degraded"
        assert health["down"] == ["telemetry_store"]
        assert serve.sample("facmon_dependency_up", name="telemetry_store") == 0
        wait_for(lambda: serve.sample("facmon_dependency_up", name="broker") == 1, 30, "the broker connection")
        assert serve.sample("facmon_dependency_up", name="records_database") == 1
        assert httpx.get(f"{serve.url}/readyz", timeout=5).status_code == 200  # a store outage: still ready

        publisher.publish(BEFORE_KILL)
        publisher.wait_acked(60)
        wait_for(lambda: serve.sample("facmon_collector_readings_spooled_total") >= BEFORE_KILL, 60,
                 "the first messages in the spool")
        wait_for(lambda: own_alarm(tmp_path, "store_unreachable") is not None, 30, "the store_unreachable alarm")
        assert own_alarm(tmp_path, "store_unreachable").state.is_active
        serve.kill()  # mid-outage: what it acknowledged is only in its spool

        publisher.publish(WHILE_DEAD)  # the broker queues these for its persistent session
        publisher.wait_acked(60)
        serve.start()  # InfluxDB still down
        assert serve.health()["down"] == ["telemetry_store"]
        wait_for(lambda: serve.sample("facmon_collector_readings_spooled_total") >= WHILE_DEAD, 60,
                 "the queued messages in the spool")
        assert count_points_or_none(down_influxdb.url, database, unique_site) is None

        down_influxdb.start()
        total = BEFORE_KILL + WHILE_DEAD
        wait_for(lambda: count_points(down_influxdb.url, database, unique_site) >= total, 60,
                 "every message in InfluxDB")
        wait_for(lambda: serve.health()["status"] == "ok", 30, "/healthz ok again")
        wait_for(lambda: not own_alarm(tmp_path, "store_unreachable").state.is_active, 30, "the alarm to clear")
        assert serve.sample("facmon_dependency_up", name="telemetry_store") == 1
    finally:
        publisher.close()
        exit_code = serve.stop()
    assert exit_code == 0, serve.tail()
    assert publisher.acked == publisher.sent == BEFORE_KILL + WHILE_DEAD
    # One point per message (its own device and millisecond): nothing lost, nothing twice, each with its value.
    points = stored_points(down_influxdb.url, database, unique_site)
    assert len(points) == BEFORE_KILL + WHILE_DEAD
    assert {(asset, at_ms): value for asset, at_ms, value in points} == publisher.expected_points()


def count_points_or_none(influx_url: str, database: str, site: str) -> int | None:
    """None while InfluxDB does not answer."""
    try:
        return count_points(influx_url, database, site)
    except httpx.TransportError:
        return None


def test_started_while_the_broker_is_down_it_reports_degraded_and_connects_when_the_broker_comes_up(
        down_mosquitto: Mosquitto, unique_site: str, tmp_path: Path) -> None:
    serve = write_config(tmp_path, (down_mosquitto.host, down_mosquitto.port), None, "", unique_site)
    try:
        serve.start()
        assert serve.health()["down"] == ["broker"]
        assert serve.sample("facmon_dependency_up", name="broker") == 0
        down_mosquitto.start()
        wait_for(lambda: serve.health()["status"] == "ok", 30, "/healthz ok once the broker is up")
        publisher = Publisher(down_mosquitto.host, down_mosquitto.port, unique_site)
        try:
            publisher.publish(300)
            publisher.wait_acked(30)
            wait_for(lambda: serve.sample("facmon_collector_readings_stored_total") >= 300, 30,
                     "the readings stored")
        finally:
            publisher.close()
    finally:
        exit_code = serve.stop()
    assert exit_code == 0, serve.tail()


def test_started_while_postgresql_is_down_it_waits_then_serves_and_is_unready_while_postgresql_restarts(
        mosquitto: Any, unique_site: str, tmp_path: Path) -> None:
    postgres = Postgres(make_service_dir("postgres"))  # its port is chosen; not started yet
    serve = write_config(tmp_path, (mosquitto.host, mosquitto.port), None, "", unique_site,
                         records=postgres.url_for("postgres"))
    try:
        serve.launch()
        wait_for(lambda: "records database unreachable" in serve.tail(), 60, "serve to wait for PostgreSQL")
        assert serve.process is not None
        assert serve.process.poll() is None  # waiting, not exited
        postgres.start()
        serve.wait_answering()
        assert serve.health()["status"] == "ok"
        postgres.stop()  # for a moment, while running: alive, degraded, not ready
        wait_for(lambda: httpx.get(f"{serve.url}/readyz", timeout=5).status_code == 503, 30, "/readyz 503")
        assert serve.health()["down"] == ["records_database"]
        postgres.start()
        wait_for(lambda: httpx.get(f"{serve.url}/readyz", timeout=5).status_code == 200, 30, "/readyz 200")
        assert serve.health()["status"] == "ok"
    finally:
        exit_code = serve.stop()
        discard_service(postgres)
    assert exit_code == 0, serve.tail()


def test_a_broker_that_refuses_the_credentials_is_a_configuration_error_and_serve_exits_2(
        tmp_path: Path, unique_site: str) -> None:
    users = {"facmon": "right"}
    broker = Mosquitto(make_service_dir("mosquitto"), users=users)
    broker.start()
    try:
        serve = write_config(tmp_path, (broker.host, broker.port), None, "", unique_site)
        config = serve.config.read_text().replace("[mqtt]\n", '[mqtt]\nusername = "facmon"\npassword = "wrong"\n')
        serve.config.write_text(config)
        result = subprocess.run([sys.executable, "-m", "facmon.cli", "serve", "--config", str(serve.config)], cwd=ROOT,
                                capture_output=True, text=True, timeout=120)
    finally:
        discard_service(broker)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "refused the connection" in result.stderr
