"""The test fixtures' services really work: MQTT round trip and restart, InfluxDB, PostgreSQL, Chromium."""

from __future__ import annotations

import http.server
import queue
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import pytest
import sqlalchemy as sa
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from playwright.sync_api import sync_playwright

from tests.services import InfluxDB, MissingBinary, Mosquitto, ServiceError, require_binary

pytestmark = pytest.mark.integration

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


class Subscriber:
    """A paho MQTT 5 client with a persistent session that collects what arrives on ``topic`` at QoS 1."""

    def __init__(self, broker: Mosquitto, client_id: str, topic: str, clean_start: bool = True) -> None:
        self.topic = topic
        self.received: queue.Queue[bytes] = queue.Queue()
        self.ready = threading.Event()
        self.session_present = False
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *_: self.ready.set()
        self.client.on_message = lambda _c, _u, message: self.received.put(bytes(message.payload))
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = 3600  # the broker keeps the session while we are away
        self.client.connect(broker.host, broker.port, clean_start=clean_start, properties=properties)
        self.client.loop_start()
        assert self.ready.wait(10), "not connected"

    def _on_connect(self, client: mqtt.Client, _userdata: object, flags: mqtt.ConnectFlags,
                    _reason: object, _properties: object) -> None:
        self.session_present = flags.session_present
        if flags.session_present:
            self.ready.set()  # no new SUBSCRIBE: what arrives comes from the restored session
        else:
            client.subscribe(self.topic, qos=1)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def publish(broker: Mosquitto, topic: str, payload: bytes) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        client.publish(topic, payload, qos=1).wait_for_publish(10)
    finally:
        client.disconnect()
        client.loop_stop()


def test_mosquitto_delivers_qos1_message(mosquitto: Mosquitto, unique_site: str) -> None:
    topic = f"facmon/v1/{unique_site}/pump/p1/telemetry"
    subscriber = Subscriber(mosquitto, f"sub-{unique_site}", topic)
    try:
        publish(mosquitto, topic, b'{"ts": 0, "metrics": {}}')
        assert subscriber.received.get(timeout=10) == b'{"ts": 0, "metrics": {}}'
    finally:
        subscriber.close()


def test_mosquitto_restart_keeps_persistent_session_and_queued_message(
        mosquitto: Mosquitto, unique_site: str) -> None:
    topic = f"facmon/v1/{unique_site}/pump/p1/telemetry"
    client_id = f"persistent-{unique_site}"
    # clean_start=False from the first connection: Mosquitto 2.0.11 does not write a session begun with
    # clean_start=True to its database, even with a session expiry, so such a session dies with a restart.
    Subscriber(mosquitto, client_id, topic, clean_start=False).close()  # subscribes, then goes away
    publish(mosquitto, topic, b"queued while away")

    mosquitto.stop()
    mosquitto.start()

    subscriber = Subscriber(mosquitto, client_id, topic, clean_start=False)
    try:
        assert subscriber.session_present
        assert subscriber.received.get(timeout=10) == b"queued while away"
        assert subscriber.received.empty()
    finally:
        subscriber.close()


def test_influxdb_writes_and_queries_a_point(influxdb: InfluxDB, unique_site: str) -> None:
    db = unique_site.replace("-", "_")
    with httpx.Client(base_url=influxdb.url, timeout=10) as http:
        http.post("/query", params={"q": f'CREATE DATABASE "{db}"'}).raise_for_status()
        http.post("/write", params={"db": db},
                  content=f"pump,site={unique_site},asset=p1 flow_m3h=21.5 1000000000").raise_for_status()
        response = http.get("/query", params={"db": db, "q": 'SELECT "flow_m3h" FROM "pump"', "epoch": "s"})
        assert response.json()["results"][0]["series"][0]["values"] == [[1, 21.5]]
        http.post("/query", params={"q": f'DROP DATABASE "{db}"'}).raise_for_status()


def test_postgres_answers_on_a_fresh_database(pg_url: str) -> None:
    engine = sa.create_engine(pg_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("select 1")).scalar_one() == 1
            assert conn.execute(sa.text("select count(*) from pg_tables where schemaname = 'public'")
                                ).scalar_one() == 0
    finally:
        engine.dispose()


class _Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<!doctype html><title>facmon fixture page</title><p>ok</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep the test output quiet


@pytest.fixture
def page_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_chromium_renders_a_local_page(chromium_path: str, page_url: str) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(page_url)
            assert page.title() == "facmon fixture page"
        finally:
            browser.close()


def test_missing_binary_names_the_debian_package() -> None:
    with pytest.raises(MissingBinary, match="install the Debian package 'facmon-nothing'"):
        require_binary("/nonexistent/facmon-nothing", "facmon-nothing")


def test_a_service_that_cannot_start_reports_its_log(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path)
    with socket.socket() as squatter:
        squatter.bind((broker.host, broker.port))
        squatter.listen()
        with pytest.raises(ServiceError, match=r"(?s)exited with code.*Address already in use"):
            broker.start(timeout_s=10)
    assert not broker.running
