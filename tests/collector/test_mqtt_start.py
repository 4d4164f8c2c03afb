"""A collector started while the broker is down: ``start`` returns, the client keeps trying, and it connects
(and reports it) once the broker is up (issue 13 §6)."""

from __future__ import annotations

import time

import pytest

from collector.mqtt import MqttConsumer
from core.errors import ServiceUnavailable
from core.settings import MqttSettings
from facmon.services import Mosquitto, discard_service, make_service_dir
from tests.integration.ingest_helpers import wait_for

pytestmark = pytest.mark.integration


def test_started_while_the_broker_is_down_it_connects_when_the_broker_comes_up(unique_site: str) -> None:
    broker = Mosquitto(make_service_dir("mosquitto"))  # its port is chosen; nothing listens yet
    changes: list[bool] = []
    consumer = MqttConsumer(MqttSettings(host=broker.host, port=broker.port, client_id=f"late-{unique_site}",
                                         reconnect_min_s=0.1, reconnect_max_s=0.5),
                            lambda _messages: None, on_connection=changes.append)
    try:
        started = time.monotonic()
        consumer.start(timeout_s=10)
        assert time.monotonic() - started < 2, "an unreachable broker must not hold the start"
        assert not consumer.connected
        with pytest.raises(ServiceUnavailable, match="not connected to MQTT broker"):
            consumer.probe()
        broker.start()
        wait_for(lambda: consumer.connected, 15, "the consumer to connect")
        consumer.probe()
        assert changes == [True]
    finally:
        consumer.stop()
        discard_service(broker)
