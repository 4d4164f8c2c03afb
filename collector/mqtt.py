"""The collector's MQTT client: a persistent QoS 1 subscription that feeds every message to a handler.

paho-mqtt 2.x, not aiomqtt, on the hot path: it receives about twice as many messages per CPU second on
this hardware (MEASURED.md) and supports manual acknowledgements, which the durable spool of the
collector issue needs (acknowledge only after the spool write). paho's network loop runs on its own
thread and reconnects by itself with a capped backoff.
"""

from __future__ import annotations

import logging
import ssl
import threading
from collections.abc import Callable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from core.errors import ServiceUnavailable
from core.settings import MqttSettings
from core.wire import subscription

log = logging.getLogger(__name__)

MessageHandler = Callable[[str, bytes], None]


class MqttConsumer:
    def __init__(self, settings: MqttSettings, handle: MessageHandler) -> None:
        self._settings = settings
        self._handle = handle
        self._connected = threading.Event()
        self._stopping = False
        self.connects = 0
        self._client = self._make_client()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def start(self, timeout_s: float = 10.0) -> None:
        """Connect, subscribe and start receiving; raises ServiceUnavailable if the broker is not reachable."""
        try:
            self._client.connect(self._settings.host, self._settings.port, self._settings.keepalive_s)
        except OSError as error:
            raise ServiceUnavailable(
                f"cannot reach MQTT broker {self._settings.host}:{self._settings.port}: {error}") from error
        self._client.loop_start()
        if not self._connected.wait(timeout_s):
            self._client.loop_stop()
            raise ServiceUnavailable(f"MQTT broker {self._settings.host}:{self._settings.port} did not accept "
                                     f"the connection within {timeout_s} s")

    def stop(self) -> None:
        self._stopping = True
        self._client.disconnect()
        self._client.loop_stop()

    def _make_client(self) -> mqtt.Client:
        # A persistent session (clean_session off) lets the broker queue QoS 1 messages while we are away.
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self._settings.client_id,
                             clean_session=False, protocol=mqtt.MQTTv311)
        if self._settings.username:
            password = self._settings.password.get_secret_value() if self._settings.password else None
            client.username_pw_set(self._settings.username, password)
        if self._settings.tls:
            client.tls_set(ca_certs=str(self._settings.ca_file) if self._settings.ca_file else None,
                           cert_reqs=ssl.CERT_REQUIRED)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    def _on_connect(self, client: mqtt.Client, _userdata: object, _flags: mqtt.ConnectFlags,
                    reason: ReasonCode, _properties: object) -> None:
        if reason.is_failure:
            log.error("MQTT broker refused the connection: %s", reason)
            return
        # Subscribe on every connect: a broker that lost our session must learn the subscription again.
        client.subscribe(subscription(self._settings.topic_prefix), qos=self._settings.qos)
        self.connects += 1
        self._connected.set()
        log.info("connected to MQTT broker %s:%d", self._settings.host, self._settings.port)

    def _on_disconnect(self, _client: mqtt.Client, _userdata: object, _flags: mqtt.DisconnectFlags,
                       reason: ReasonCode, _properties: object) -> None:
        self._connected.clear()
        if not self._stopping:
            log.warning("disconnected from MQTT broker: %s; reconnecting", reason)

    def _on_message(self, _client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        self._handle(message.topic, bytes(message.payload))
