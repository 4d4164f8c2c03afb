"""The demo's embedded broker delivers a short-lived publisher's QoS 0 message (issue 12 §8)."""

from __future__ import annotations

import queue
import shutil
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from facmon.broker import EmbeddedBroker

STATUSES = 30  # as many retained device statuses as the demo's portfolio has


@pytest.fixture
def broker() -> Iterator[EmbeddedBroker]:
    broker = EmbeddedBroker()
    broker.start()
    yield broker
    broker.stop()


def _client(broker: EmbeddedBroker, client_id: str) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
    client.connect(broker.host, broker.port)
    client.loop_start()
    return client


def test_qos0_message_of_a_short_lived_mosquitto_pub_arrives(broker: EmbeddedBroker) -> None:
    mosquitto_pub = shutil.which("mosquitto_pub")
    assert mosquitto_pub is not None, "install the Debian package mosquitto-clients"
    devices = _client(broker, "devices")
    for n in range(STATUSES):
        devices.publish(f"facmon/v1/s/pump/p{n}/status", b"online", qos=1, retain=True).wait_for_publish(5)
    received: queue.Queue[Any] = queue.Queue()
    collector = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="collector")
    collector.on_message = lambda _c, _u, m: received.put(m.payload) if m.topic.endswith("/telemetry") else None
    collector.connect(broker.host, broker.port)
    collector.loop_start()
    collector.subscribe("facmon/v1/#", qos=1)
    time.sleep(0.5)
    for n in range(10):
        subprocess.run([mosquitto_pub, "-h", broker.host, "-p", str(broker.port), "-q", "0",
                        "-t", "facmon/v1/s/pump/p1/telemetry", "-m", f"m{n}"], check=True, timeout=10)
    got = [received.get(timeout=5) for _ in range(10)]
    assert sorted(got) == sorted(f"m{n}".encode() for n in range(10))
    for client in (devices, collector):
        client.disconnect()
        client.loop_stop()


def test_a_publisher_gets_no_retained_messages_it_did_not_subscribe_to(broker: EmbeddedBroker) -> None:
    devices = _client(broker, "devices")
    devices.publish("facmon/v1/s/pump/p1/status", b"online", qos=1, retain=True).wait_for_publish(5)
    watcher = _client(broker, "watcher")
    watcher.subscribe("facmon/v1/#", qos=1)
    time.sleep(0.3)
    unsolicited: queue.Queue[Any] = queue.Queue()
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="publisher")
    publisher.on_message = lambda _c, _u, m: unsolicited.put(m.topic)
    publisher.connect(broker.host, broker.port)
    publisher.loop_start()
    time.sleep(0.5)
    assert unsolicited.empty()
    for client in (devices, watcher, publisher):
        client.disconnect()
        client.loop_stop()
