"""A partition subscribes only its sites' topics (JSON, line protocol, status and Sparkplug), on real Mosquitto,
and takes a new site's topics while connected."""

from __future__ import annotations

import queue
import secrets

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from collector.mqtt import Message, MqttConsumer, topics
from core.settings import MqttSettings
from tests.services import Mosquitto


def test_site_filters_cover_device_topics_and_the_sparkplug_group() -> None:
    assert topics(MqttSettings(), ["a", "b"]) == ["facmon/v1/a/+/+/+", "facmon/v1/b/+/+/+",
                                                 "spBv1.0/a/#", "spBv1.0/b/#"]
    assert topics(MqttSettings(sparkplug=False, shared_group="g"), ["a"]) == ["$share/g/facmon/v1/a/+/+/+"]
    assert topics(MqttSettings(sparkplug=False), []) == []


def test_a_partition_receives_only_its_sites_and_a_site_added_while_connected(mosquitto: Mosquitto) -> None:
    run = secrets.token_hex(3)
    mine, other, added = f"mine-{run}", f"other-{run}", f"added-{run}"
    received: queue.Queue[Message] = queue.Queue()
    settings = MqttSettings(host=mosquitto.host, port=mosquitto.port, client_id=f"part-{run}")

    def handle(batch: list[Message]) -> None:
        for message in batch:
            received.put(message)

    consumer = MqttConsumer(settings, handle)
    consumer.set_sites([mine])
    consumer.start()
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2)
    publisher.connect(mosquitto.host, mosquitto.port)
    publisher.loop_start()

    def send(topic: str) -> None:
        publisher.publish(topic, b"x", qos=1).wait_for_publish(10)

    def arrived() -> set[str]:
        topics_seen = set()
        while True:
            try:
                topics_seen.add(received.get(timeout=1.0)[0])
            except queue.Empty:
                return topics_seen

    try:
        for site in (mine, other, added):
            send(f"facmon/v1/{site}/pump/p1/telemetry")
            send(f"facmon/v1/{site}/pump/p1/lp")
            send(f"spBv1.0/{site}/NDATA/gw")
        assert arrived() == {f"facmon/v1/{mine}/pump/p1/telemetry", f"facmon/v1/{mine}/pump/p1/lp",
                             f"spBv1.0/{mine}/NDATA/gw"}
        consumer.set_sites([mine, added])
        arrived()  # SUBACK settles
        send(f"facmon/v1/{added}/pump/p2/telemetry")
        send(f"facmon/v1/{other}/pump/p2/telemetry")
        assert arrived() == {f"facmon/v1/{added}/pump/p2/telemetry"}
        consumer.set_sites([added])
        arrived()
        send(f"facmon/v1/{mine}/pump/p3/telemetry")
        send(f"facmon/v1/{added}/pump/p3/telemetry")
        assert arrived() == {f"facmon/v1/{added}/pump/p3/telemetry"}
    finally:
        publisher.loop_stop()
        publisher.disconnect()
        consumer.stop()
