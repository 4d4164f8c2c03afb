"""`facmon devices provision` on a real Mosquitto: a device publishes under its own topics only.

Each test provisions a registry of two pumps and an elevator, starts Mosquitto with the written
``mosquitto.conf`` (passwords, or client certificates with ``use_identity_as_username``), subscribes as the
collector and publishes as a device: a message under another asset's topic never reaches the subscriber
(MQTT 5 also answers it with PUBACK 135 "not authorised"), one under its own topic does.
"""

from __future__ import annotations

import json
import os
import pwd
import queue
import ssl
import subprocess
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from collector.devices.certificates import common_name
from collector.devices.passwords import matches
from collector.devices.provision import Provisioned, provision
from collector.mqtt import MqttConsumer
from core.domain import Asset, AssetKind
from core.errors import ConfigError
from core.settings import DevicesSettings, MqttSettings
from tests.services import MOSQUITTO, MOSQUITTO_PASSWD, ServiceProcess, free_port, mqtt_answers, require_binary

pytestmark = pytest.mark.integration

SITE = "harbour"
PUMP, OTHER_PUMP, LIFT = "harbour-pump-1", "harbour-pump-2", "harbour-elevator-1"
ASSETS = [Asset(PUMP, SITE, AssetKind.PUMP, "Pump 1", date(2020, 1, 1)),
          Asset(OTHER_PUMP, SITE, AssetKind.PUMP, "Pump 2", date(2020, 1, 1)),
          Asset(LIFT, SITE, AssetKind.ELEVATOR, "Lift 1", date(2020, 1, 1))]
NOW = datetime(2026, 12, 5, tzinfo=UTC)


def topic(asset_id: str, kind: str = "pump") -> str:
    return f"facmon/v1/{SITE}/{kind}/{asset_id}/telemetry"


class ProvisionedMosquitto(ServiceProcess):
    """Mosquitto started on the ``mosquitto.conf`` that provisioning wrote (nothing else of ours)."""

    name = "mosquitto"

    def __init__(self, directory: Path, result: Provisioned, probe: ssl.SSLContext | None) -> None:
        super().__init__(directory)
        self.result, self.probe = result, probe
        self.config_path = directory / "broker.conf"
        self.config_path.write_text("\n".join([
            f"user {pwd.getpwuid(os.getuid()).pw_name}", "persistence false", "log_dest stderr",
            "log_type error", "log_type warning", "log_type notice", result.config_file.read_text()]))

    def command(self) -> list[str]:
        return [require_binary(MOSQUITTO, "mosquitto"), "-c", str(self.config_path)]

    def is_ready(self) -> bool:
        return mqtt_answers("127.0.0.1", self.port, self.probe, refusal_ok=True)

    @property
    def port(self) -> int:
        listener = next(line for line in self.result.config_file.read_text().splitlines()
                        if line.startswith("listener "))
        return int(listener.split()[1])


def _provision(tmp_path: Path, auth: str) -> tuple[Provisioned, DevicesSettings]:
    devices = DevicesSettings(auth=auth, directory=tmp_path / "devices", listener_host="127.0.0.1",  # type: ignore[arg-type]
                              listener_port=free_port(), sparkplug_gateways=True)
    return provision(ASSETS, devices, MqttSettings(), NOW), devices


@pytest.fixture(params=["password", "certificate"])
def broker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[ProvisionedMosquitto, str]]:
    auth: str = request.param
    result, _ = _provision(tmp_path, auth)
    probe = None
    if auth == "certificate":
        probe = ssl.create_default_context(cafile=str(result.directory / "ca.crt"))
        probe.load_cert_chain(result.directory / "clients" / "facmon-collector.crt",
                              result.directory / "clients" / "facmon-collector.key")
    service = ProvisionedMosquitto(tmp_path, result, probe)
    service.start()
    yield service, auth
    service.stop()


def _client(service: ProvisionedMosquitto, auth: str, username: str, five: bool = False) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"t-{username}",
                         protocol=mqtt.MQTTv5 if five else mqtt.MQTTv311)
    directory = service.result.directory
    if auth == "password":
        client.username_pw_set(username, json.loads((directory / "credentials.json").read_text())[username])
    else:
        client.tls_set(ca_certs=str(directory / "ca.crt"), certfile=str(directory / "clients" / f"{username}.crt"),
                       keyfile=str(directory / "clients" / f"{username}.key"))
    return client


def _connect(client: mqtt.Client, port: int) -> Any:
    answers: queue.Queue[Any] = queue.Queue()
    client.on_connect = lambda _c, _u, _f, reason, _p: answers.put(reason)
    client.connect("127.0.0.1", port)
    client.loop_start()
    return answers.get(timeout=10)


def _subscribed_collector(service: ProvisionedMosquitto, auth: str) -> tuple[mqtt.Client, queue.Queue[Any]]:
    received: queue.Queue[Any] = queue.Queue()
    collector = _client(service, auth, "facmon-collector")
    collector.on_message = lambda _c, _u, message: received.put((message.topic, message.payload))
    subscribed: queue.Queue[Any] = queue.Queue()
    collector.on_subscribe = lambda _c, _u, _m, codes, _p: subscribed.put(codes)
    assert not _connect(collector, service.port).is_failure
    collector.subscribe([("facmon/v1/#", 1), ("spBv1.0/#", 1)])
    assert all(not code.is_failure for code in subscribed.get(timeout=10))
    return collector, received


def test_device_publishes_under_its_own_topic_and_is_refused_under_another(
        broker: tuple[ProvisionedMosquitto, str]) -> None:
    service, auth = broker
    collector, received = _subscribed_collector(service, auth)
    device = _client(service, auth, PUMP)
    assert not _connect(device, service.port).is_failure
    for asset_id, kind in ((OTHER_PUMP, "pump"), (LIFT, "elevator"), (PUMP, "pump")):
        device.publish(topic(asset_id, kind), f"from {PUMP} as {asset_id}".encode(), qos=1).wait_for_publish(10)
    # Messages from one publisher arrive in order: once its own arrives, the two refused ones are not coming.
    assert received.get(timeout=10) == (topic(PUMP), f"from {PUMP} as {PUMP}".encode())
    assert received.empty()
    for client in (device, collector):
        client.disconnect()
        client.loop_stop()


def test_mqtt5_device_gets_not_authorised_for_another_assets_topic(broker: tuple[ProvisionedMosquitto, str]) -> None:
    service, auth = broker
    acks: queue.Queue[Any] = queue.Queue()
    device = _client(service, auth, PUMP, five=True)
    device.on_publish = lambda _c, _u, mid, reason, _p: acks.put((mid, reason))
    assert not _connect(device, service.port).is_failure
    refused = device.publish(topic(OTHER_PUMP), b"{}", qos=1).mid
    allowed = device.publish(topic(PUMP), b"{}", qos=1).mid
    answers = dict([acks.get(timeout=10), acks.get(timeout=10)])
    assert answers[refused].value == 135  # Not authorized
    assert not answers[allowed].is_failure
    device.disconnect()
    device.loop_stop()


def test_gateway_publishes_for_its_sites_assets_only(broker: tuple[ProvisionedMosquitto, str]) -> None:
    service, auth = broker
    collector, received = _subscribed_collector(service, auth)
    gateway = _client(service, auth, f"{SITE}-gateway")
    assert not _connect(gateway, service.port).is_failure
    node = f"spBv1.0/{SITE}/DDATA/{SITE}-gateway"
    for target in (f"spBv1.0/other-site/DDATA/{SITE}-gateway/{PUMP}", f"{node}/not-an-asset", topic(PUMP),
                   f"{node}/{PUMP}"):
        gateway.publish(target, b"x", qos=1).wait_for_publish(10)
    assert received.get(timeout=10)[0] == f"{node}/{PUMP}"
    assert received.empty()
    for client in (gateway, collector):
        client.disconnect()
        client.loop_stop()


def test_anonymous_and_wrong_credentials_are_refused(tmp_path: Path) -> None:
    result, _ = _provision(tmp_path, "password")
    service = ProvisionedMosquitto(tmp_path, result, None)
    service.start()
    try:
        assert _connect(mqtt.Client(CallbackAPIVersion.VERSION2, client_id="anon"), service.port).is_failure
        impostor = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="impostor")
        impostor.username_pw_set(PUMP, "not-the-password")
        assert _connect(impostor, service.port).is_failure
    finally:
        service.stop()


def test_provisioning_again_keeps_secrets_and_drops_removed_assets(tmp_path: Path) -> None:
    for auth in ("password", "certificate"):
        devices = DevicesSettings(auth=auth, directory=tmp_path / auth)  # type: ignore[arg-type]
        first = provision(ASSETS, devices, MqttSettings(), NOW)
        secrets_before = _secrets(first)
        second = provision(ASSETS[:2], devices, MqttSettings(), NOW)
        assert first.added == ["facmon-collector", *sorted(a.id for a in ASSETS)]
        assert second.added == []
        assert second.removed == [LIFT]
        after = _secrets(second)
        assert after == {name: value for name, value in secrets_before.items() if name != LIFT}
        assert LIFT not in (second.directory / "acl").read_text()


def _secrets(result: Provisioned) -> dict[str, str]:
    if result.auth == "password":
        return dict(json.loads((result.directory / "credentials.json").read_text()))
    clients = result.directory / "clients"
    return {path.stem: path.read_text() for path in clients.glob("*.crt")}


def test_client_certificate_names_the_broker_user(tmp_path: Path) -> None:
    result, _ = _provision(tmp_path, "certificate")
    assert common_name(result.directory / "clients" / f"{PUMP}.crt") == PUMP
    assert oct((result.directory / "clients" / f"{PUMP}.key").stat().st_mode & 0o777) == "0o600"


def test_password_hash_reads_mosquitto_passwd_output_and_mosquitto_passwd_accepts_ours(tmp_path: Path) -> None:
    passwd = require_binary(MOSQUITTO_PASSWD, "mosquitto")
    path = tmp_path / "pw"
    path.write_text("dev:s3cret\n")
    subprocess.run([passwd, "-U", str(path)], check=True, capture_output=True, timeout=30)
    assert matches("s3cret", path.read_text().strip().split(":", 1)[1])
    assert not matches("other", path.read_text().strip().split(":", 1)[1])


def test_collector_connects_with_its_provisioned_certificate(tmp_path: Path) -> None:
    result, _ = _provision(tmp_path, "certificate")
    clients = result.directory / "clients"
    probe = ssl.create_default_context(cafile=str(result.directory / "ca.crt"))
    probe.load_cert_chain(clients / "facmon-collector.crt", clients / "facmon-collector.key")
    service = ProvisionedMosquitto(tmp_path, result, probe)
    service.start()
    received: queue.Queue[Any] = queue.Queue()
    settings = MqttSettings(host="127.0.0.1", port=service.port, tls=True, ca_file=result.directory / "ca.crt",
                            cert_file=clients / "facmon-collector.crt", key_file=clients / "facmon-collector.key",
                            client_id="collector-under-test")
    consumer = MqttConsumer(settings, lambda messages: [received.put(m[:2]) for m in messages])
    try:
        consumer.start()
        device = _client(service, "certificate", PUMP)
        assert not _connect(device, service.port).is_failure
        device.publish(topic(PUMP), b"{}", qos=1).wait_for_publish(10)
        assert received.get(timeout=10) == (topic(PUMP), b"{}")
        device.disconnect()
        device.loop_stop()
    finally:
        consumer.stop()
        service.stop()


def test_an_id_that_would_widen_the_acl_is_refused(tmp_path: Path) -> None:
    sneaky = Asset("p1\ntopic write #", SITE, AssetKind.PUMP, "Sneaky")
    with pytest.raises(ConfigError, match="not fit"):
        provision([*ASSETS, sneaky], DevicesSettings(directory=tmp_path), MqttSettings(), NOW)
    assert not (tmp_path / "acl").exists()
