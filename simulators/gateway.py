"""A Sparkplug B edge node (gateway) for one simulated site: births with aliases, data by alias, deaths, seq.

``GatewaySession`` is the pure protocol state (what to publish, as (topic, payload) pairs); ``SparkplugGateway``
is its paho-mqtt shell. Mapping (the collector's, docs/collector.md): group = site id, edge node =
``<site>-gateway``, device = asset id, metric names = catalogue names.

- Each MQTT session gets a new ``bdSeq`` (0-255); the will is the NDEATH carrying it.
- On connect: NBIRTH (seq 0, bdSeq, the ``Node Control/Rebirth`` metric), then a DBIRTH per online device
  naming every catalogue metric with its alias (aliases are unique across the edge node) and its last value.
- Data: one DDATA per report, metrics by alias only, timestamped with the report's time; seq + 1 (wrapping).
- A device going offline: DDEATH; coming back: DBIRTH. An NCMD with ``Node Control/Rebirth`` = true: all
  births again (seq restarts at 0).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from core.catalogue import CATALOGUE
from core.domain import Asset, MetricValue, Reading
from core.errors import InvalidMessage
from core.sparkplug import (
    REBIRTH,
    DataType,
    MessageType,
    Metric,
    birth_payload,
    data_payload,
    death_payload,
    decode_payload,
    device_death_payload,
    encode_payload,
    next_seq,
    spb_topic,
)

log = logging.getLogger(__name__)

Message = tuple[str, bytes]


def edge_node_id(site_id: str) -> str:
    return f"{site_id}-gateway"


def _datatype(value: MetricValue | None, flag: bool) -> DataType:
    return DataType.BOOLEAN if flag or isinstance(value, bool) else DataType.DOUBLE


class GatewaySession:
    """The protocol state of one edge node and its devices (not thread-safe: the shell locks)."""

    def __init__(self, site_id: str, assets: Sequence[Asset]) -> None:
        self.group, self.edge = site_id, edge_node_id(site_id)
        self.assets = {asset.id: asset for asset in assets}
        self.aliases: dict[str, dict[str, int]] = {}
        alias = 0
        for asset in assets:
            names = {}
            for name in CATALOGUE[asset.kind]:
                alias += 1
                names[name] = alias
            self.aliases[asset.id] = names
        self.bd_seq = -1
        self.seq = 0
        self.offline: set[str] = set()
        self.last: dict[str, dict[str, MetricValue]] = {}

    def new_session(self, at: datetime) -> Message:
        """Start a new MQTT session: the next bdSeq and the NDEATH to register as the will."""
        self.bd_seq = (self.bd_seq + 1) % 256
        return self.death(at)

    def death(self, at: datetime | None = None) -> Message:
        return (spb_topic(self.group, MessageType.NDEATH, self.edge), encode_payload(death_payload(self.bd_seq, at)))

    def command_topic(self) -> str:
        return spb_topic(self.group, MessageType.NCMD, self.edge)

    def births(self, at: datetime) -> list[Message]:
        """NBIRTH (seq 0) and a DBIRTH for every online device."""
        self.seq = 0
        node = (spb_topic(self.group, MessageType.NBIRTH, self.edge),
                encode_payload(birth_payload((), 0, at, bd_seq=self.bd_seq)))
        return [node, *(self.device_birth(asset_id, at) for asset_id in self.assets if asset_id not in self.offline)]

    def device_birth(self, asset_id: str, at: datetime) -> Message:
        self.offline.discard(asset_id)
        asset, last = self.assets[asset_id], self.last.get(asset_id, {})
        metrics = [Metric(name, alias, _datatype(last.get(name), CATALOGUE[asset.kind][name].type.value == "flag"),
                          last.get(name))
                   for name, alias in self.aliases[asset_id].items()]
        return (spb_topic(self.group, MessageType.DBIRTH, self.edge, asset_id),
                encode_payload(birth_payload(metrics, self._next(), at)))

    def device_death(self, asset_id: str, at: datetime) -> Message:
        self.offline.add(asset_id)
        return (spb_topic(self.group, MessageType.DDEATH, self.edge, asset_id),
                encode_payload(device_death_payload(self._next(), at)))

    def data(self, reading: Reading) -> Message:
        """A DDATA with the report's metrics by alias."""
        aliases = self.aliases[reading.asset_id]
        self.last[reading.asset_id] = dict(reading.metrics)
        values = [(aliases[name], _datatype(value, False), value) for name, value in reading.metrics.items()
                  if name in aliases]
        return (spb_topic(self.group, MessageType.DDATA, self.edge, reading.asset_id),
                encode_payload(data_payload(values, self._next(), reading.at)))

    def command(self, payload: bytes, at: datetime) -> list[Message]:
        """The answer to an NCMD: all births again if it asks for a rebirth, else nothing."""
        try:
            metrics = decode_payload(payload).metrics
        except InvalidMessage:
            return []
        if any(metric.name == REBIRTH and metric.value is True for metric in metrics):
            return self.births(at)
        return []

    def _next(self) -> int:
        self.seq = next_seq(self.seq)
        return self.seq


class SparkplugGateway:
    """The MQTT side of one site's edge node: its own client (``facmon-sim-spb-<site>``), the NDEATH as last
    will, births on every connect, rebirth on NCMD. ``clock`` gives the time stamped on births and deaths."""

    def __init__(self, site_id: str, assets: Sequence[Asset], host: str, port: int,
                 now: Callable[[], datetime]) -> None:
        self.session = GatewaySession(site_id, assets)
        self._now = now
        self._lock = threading.Lock()
        self.connected = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"facmon-sim-spb-{site_id}",
                                  protocol=mqtt.MQTTv311, clean_session=True)
        self._set_will()
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.connect_async(host, port, keepalive=30)

    def _set_will(self) -> None:
        with self._lock:
            topic, payload = self.session.new_session(self._now())
        self.client.will_set(topic, payload, qos=1, retain=False)

    def _on_connect(self, client: mqtt.Client, _userdata: object, _flags: object, reason: object,
                    _properties: object) -> None:
        if getattr(reason, "is_failure", False):
            log.warning("simulated gateway %s: connection refused: %s", self.session.edge, reason)
            return
        client.subscribe(self.session.command_topic(), qos=1)
        with self._lock:
            for topic, payload in self.session.births(self._now()):
                client.publish(topic, payload, qos=1)
        self.connected.set()

    def _on_disconnect(self, _client: mqtt.Client, _userdata: object, _flags: object, _reason: object,
                       _properties: object) -> None:
        self.connected.clear()
        self._set_will()  # the next session announces itself with the next bdSeq

    def _on_message(self, client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        with self._lock:
            replies = self.session.command(bytes(message.payload), self._now())
            for topic, payload in replies:
                client.publish(topic, payload, qos=1)
        if replies:
            log.info("simulated gateway %s: rebirth on request", self.session.edge)

    def publish(self, message: Message) -> bool:
        topic, payload = message
        return self.client.publish(topic, payload, qos=1).rc in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN)

    def data(self, reading: Reading) -> bool:
        with self._lock:
            return self.publish(self.session.data(reading))

    def device_death(self, asset_id: str) -> None:
        with self._lock:
            self.publish(self.session.device_death(asset_id, self._now()))

    def device_birth(self, asset_id: str) -> None:
        with self._lock:
            self.publish(self.session.device_birth(asset_id, self._now()))

    def close(self, timeout_s: float) -> None:
        """Publish the NDEATH ourselves (a clean DISCONNECT suppresses the will), then disconnect."""
        if self.connected.is_set():
            with self._lock:
                topic, payload = self.session.death(self._now())
            info = self.client.publish(topic, payload, qos=1)
            try:
                info.wait_for_publish(timeout_s)
            except (RuntimeError, ValueError) as error:
                log.info("simulated gateway %s: NDEATH not sent: %s", self.session.edge, error)
        self.client.on_disconnect = None
        self.client.disconnect()
        self.client.loop_stop()
