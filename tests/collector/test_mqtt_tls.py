"""The collector's MQTT client over TLS with a password, against real Mosquitto (``mosquitto_tls`` fixture).

MqttSettings has ``tls``, ``ca_file``, ``username`` and ``password``; these tests show they work end to
end (private CA, password file, QoS 1 with our manual acknowledgements, MQTT 3.1.1 and 5) and that the
broker's refusals are not silently ignored: a wrong password and an untrusted certificate both keep
``MqttConsumer.start`` from returning.
"""

from __future__ import annotations

import logging
import queue
import ssl
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from collector.mqtt import MqttConsumer
from core.errors import ConfigError
from core.settings import MqttSettings
from tests.services import Mosquitto
from tests.tls import make_tls_files

pytestmark = pytest.mark.integration

PROTOCOLS = ["3.1.1", "5"]
Message = tuple[str, bytes, int, int]  # topic, payload, mid, qos: what MqttConsumer hands its handler


def collector_settings(broker: Mosquitto, client_id: str, protocol: str = "3.1.1", password: str | None = None,
                       ca_file: Path | None = None) -> MqttSettings:
    assert broker.tls is not None
    return MqttSettings.model_validate({
        "host": broker.host, "port": broker.port, "tls": True, "client_id": client_id, "protocol": protocol,
        "ca_file": ca_file if ca_file is not None else broker.tls.ca_file,
        "username": "collector", "password": password if password is not None else broker.users["collector"],
        "sparkplug": False, "reconnect_min_s": 0.2, "reconnect_max_s": 0.5,
    })


def publish(broker: Mosquitto, topic: str, payloads: list[bytes], protocol: str) -> None:
    """Publish at QoS 1 as the ``device`` user over TLS; returns once the broker acknowledged every one."""
    assert broker.tls is not None
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5 if protocol == "5" else mqtt.MQTTv311)
    client.username_pw_set("device", broker.users["device"])
    client.tls_set(ca_certs=str(broker.tls.ca_file), cert_reqs=ssl.CERT_REQUIRED)
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        infos = [client.publish(topic, payload, qos=1) for payload in payloads]
        for info in infos:
            info.wait_for_publish(10)
            assert info.is_published()
    finally:
        client.disconnect()
        client.loop_stop()


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_the_collector_receives_and_acknowledges_qos1_over_tls_with_a_password(
        mosquitto_tls: Mosquitto, unique_site: str, protocol: str) -> None:
    topic = f"facmon/v1/{unique_site}/pump/p1/telemetry"
    settings = collector_settings(mosquitto_tls, f"collector-{unique_site}", protocol)
    received: queue.Queue[Message] = queue.Queue()
    payloads = [b'{"n": %d}' % n for n in range(200)]  # several PUBLISH packets per TLS read
    consumer = MqttConsumer(settings, lambda messages: [received.put(m) for m in messages])
    consumer.start()
    try:
        publish(mosquitto_tls, topic, payloads, protocol)
        messages = [received.get(timeout=10) for _ in payloads]
        assert [(t, p, q) for t, p, _mid, q in messages] == [(topic, p, 1) for p in payloads]
        consumer.ack_many([mid for _t, _p, mid, _q in messages])
    finally:
        consumer.stop()
    # The PUBACKs reached the broker: the resumed session redelivers none of them, only what is new.
    consumer = MqttConsumer(settings, lambda messages: [received.put(m) for m in messages])
    consumer.start()
    try:
        publish(mosquitto_tls, topic, [b"after"], protocol)
        _topic, payload, mid, _qos = received.get(timeout=10)
        assert payload == b"after"
        consumer.ack_many([mid])
    finally:
        consumer.stop()


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_wrong_password_is_refused_and_start_times_out(
        mosquitto_tls: Mosquitto, unique_site: str, protocol: str, caplog: pytest.LogCaptureFixture) -> None:
    """TLS succeeds, the broker refuses the CONNECT: ``start`` fails at once with a configuration error (retrying
    will not mend a wrong password), naming the broker's reason."""
    changes: list[bool] = []
    consumer = MqttConsumer(collector_settings(mosquitto_tls, f"intruder-{unique_site}", protocol,
                                               password="not-the-password"),
                            lambda _messages: None, on_connection=changes.append)
    started = time.monotonic()
    try:
        with caplog.at_level(logging.ERROR, logger="collector.mqtt"), \
                pytest.raises(ConfigError, match="refused the connection: Not authorized"):
            consumer.start(timeout_s=10)
    finally:
        consumer.stop()
    assert time.monotonic() - started < 5, "a refusal must not wait out the timeout"
    assert consumer.connects == 0
    assert not any(changes)  # never reported connected
    refusals = [r.getMessage() for r in caplog.records if "refused the connection" in r.getMessage()]
    assert refusals
    assert all(r.endswith("refused the connection: Not authorized") for r in refusals)  # 3.1.1 and 5 alike


@pytest.mark.parametrize("trust", ["another CA", "the system CAs"])
def test_a_client_that_does_not_trust_the_ca_cannot_connect(
        mosquitto_tls: Mosquitto, unique_site: str, tmp_path: Path, trust: str) -> None:
    """The TLS handshake fails inside ``connect``: ``start`` raises a configuration error at once, caused by the
    verify error."""
    settings = collector_settings(mosquitto_tls, f"untrusting-{unique_site}")
    ca_file = make_tls_files(tmp_path).ca_file if trust == "another CA" else None
    consumer = MqttConsumer(settings.model_copy(update={"ca_file": ca_file}), lambda _messages: None)
    with pytest.raises(ConfigError, match="cannot reach MQTT broker") as raised:
        consumer.start(timeout_s=5)
    assert isinstance(raised.value.__cause__, ssl.SSLCertVerificationError)
    assert "certificate verify failed" in str(raised.value)
