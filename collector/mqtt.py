"""The collector's MQTT client: a persistent QoS 1 subscription, acknowledged by hand after the spool sync.

Choices (issue 3, MEASURED.md):
- paho-mqtt 2.x, not aiomqtt, on the hot path: it receives about twice as many messages per CPU second
  here, and offers manual acknowledgements (``manual_ack=True``); aiomqtt 2.5 acknowledges on receipt.
  Messages reach the pipeline as lists of (topic, payload, mid, qos); the pipeline calls ``ack_many(mids)``
  once the reading is durable in the spool (or its dead letter is stored), so a crash before that makes
  the broker redeliver.
- MQTT 3.1.1 (``clean_session`` off) or MQTT 5 (``clean_start`` off, ``session_expiry_s``) by setting
  ``mqtt.protocol``; the embedded demo broker (amqtt) speaks only 3.1.1, the default.
- In flight: with late acknowledgements the broker's per-client in-flight limit caps throughput at about
  ``limit / commit window`` (Mosquitto's default 20 with a 5 ms group commit is ~4,000 msgs/s). Under MQTT 5
  we announce ``receive_maximum`` = ``mqtt.max_inflight``; Mosquitto also needs ``max_inflight_messages``
  raised (docs/collector.md).
- Reconnect: paho's network thread reconnects; before each attempt we set its delay ourselves, doubling
  from ``reconnect_min_s`` up to ``reconnect_max_s`` with full jitter (0.5-1x), reset on a good CONNACK.
  A broker that is down when we start is retried the same way: the service starts without it (issue 13
  §6); only a refusal that retrying cannot mend (credentials, authorisation, TLS trust) stops the start.
- ``mqtt.shared_group`` subscribes ``$share/<group>/<topics>`` (MQTT 5 shared subscription; Mosquitto also
  honours it from 3.1.1 clients), so several collectors split the load; each needs its own client id.
"""

from __future__ import annotations

import logging
import random
import ssl
import struct
import threading
from collections.abc import Callable, Sequence
from typing import Any, cast

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from core.errors import ConfigError, ServiceUnavailable
from core.settings import MqttSettings
from core.wire import subscription

log = logging.getLogger(__name__)

Message = tuple[str, bytes, int, int]  # topic, payload, mid, qos
MessagesHandler = Callable[[list[Message]], None]  # messages in arrival order
ConnectionListener = Callable[[bool], None]
SPARKPLUG_ROOT = "spBv1.0"
SPARKPLUG_SUBSCRIPTION = f"{SPARKPLUG_ROOT}/#"
FILTERS_PER_PACKET = 500  # topic filters per SUBSCRIBE/UNSUBSCRIBE (a partition may own thousands of sites)
_PUBACK = 0x40
_PUBACKS = [struct.pack("!BBH", _PUBACK, 2, mid) for mid in range(0x10000)]
READ_CHUNK_BYTES = 256 * 1024
# CONNACK refusals that retrying will not mend (MQTT 5 codes; paho maps 3.1.1's onto them): unsupported
# protocol version, client identifier not valid, bad user name or password, not authorized, banned, bad
# authentication method. Others (server unavailable, busy, quota) are retried.
FINAL_REFUSALS = frozenset({0x84, 0x85, 0x86, 0x87, 0x8A, 0x8C})
CHUNKS_PER_LOOP = 8  # then paho's loop gets to write (PUBACKs) and ping before reading on


def backoff_s(attempt: int, min_s: float, max_s: float, rand: Callable[[], float] = random.random) -> float:
    """Delay before reconnect ``attempt`` (0-based): doubling from ``min_s``, capped at ``max_s``, jittered 0.5-1x."""
    ceiling: float = min(max_s, min_s * 2.0 ** min(attempt, 30))
    return ceiling * (0.5 + 0.5 * rand())


def topics(settings: MqttSettings, sites: Sequence[str] | None = None) -> list[str]:
    """The topic filters to subscribe (with the shared-subscription prefix when a group is set): every site's,
    or only those of ``sites`` (a partition, docs/scaling.md): its devices' topics and its Sparkplug group."""
    if sites is None:
        filters = [subscription(settings.topic_prefix)]
        if settings.sparkplug:
            filters.append(SPARKPLUG_SUBSCRIPTION)
    else:
        filters = [f"{settings.topic_prefix}/{site}/+/+/+" for site in sites]
        if settings.sparkplug:
            filters += [f"{SPARKPLUG_ROOT}/{site}/#" for site in sites]  # the group is the site
    if settings.shared_group:
        return [f"$share/{settings.shared_group}/{f}" for f in filters]
    return filters


class ChunkedReadClient(mqtt.Client):
    """paho's client, reading the socket in large chunks and taking PUBLISH packets on a short path.

    paho reads a packet with at least three ``recv`` calls (command byte, each length byte, the rest) after a
    ``select``, then builds an ``MQTTMessage``, logs and dispatches it under locks: at 5k msgs/s that was most
    of its network thread's CPU, and every ``recv`` hands the GIL to the other threads. Here one ``recv`` of
    up to ``READ_CHUNK_BYTES`` serves many packets from memory; whole QoS 0/1 PUBLISH packets in the chunk
    are parsed here and handed to ``publish_handler`` in one list of (topic, payload, mid, qos) per chunk; every
    other packet, a partial one, a QoS 2 one or one with a topic that is not UTF-8 goes through paho's own
    parser (which keeps a partial packet in ``_in_packet``, so the chunk is empty whenever we return to
    ``select``). At most ``CHUNKS_PER_LOOP`` chunks per ``loop_read``, so PUBACKs and keep-alive pings go out
    under a flood too. paho still owns the connection: CONNECT, SUBSCRIBE, keep-alive, TLS, reconnect, the
    session. Relies on paho 2.x internals (``_sock_recv``, ``_sock_close``, ``_in_packet``), pinned in
    pyproject.toml and covered by tests/collector/test_mqtt_client.py.
    """

    publish_handler: MessagesHandler | None = None
    _chunk = b""
    _chunk_pos = 0
    _chunks_left = 0
    _drained = True

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:  # noqa: ARG002 (paho's signature)
        self._chunks_left, self._drained = CHUNKS_PER_LOOP, False
        rc = MQTTErrorCode.MQTT_ERR_SUCCESS
        while not rc and not self._drained and self._sock is not None:
            if self.publish_handler is not None and self._in_packet["command"] == 0 and self._take_publishes():
                continue
            rc = super().loop_read(1)
        self._chunks_left = 0
        return rc

    def _take_publishes(self) -> bool:
        """Hand the whole QoS 0/1 PUBLISH packets at the head of the chunk to the handler, in one list;
        True if there was one."""
        chunk, pos, end = self._chunk, self._chunk_pos, len(self._chunk)
        five = self._protocol == mqtt.MQTTv5
        messages: list[Message] = []
        while pos < end:
            command = chunk[pos]
            qos = (command >> 1) & 3
            if command >> 4 != 3 or qos == 2:
                break  # not a PUBLISH, or QoS 2 (its handshake is paho's)
            length, body = _remaining_length(chunk, pos + 1, end)
            if length < 2 or body + length > end:
                break  # a partial packet (paho reads the rest from the socket), or a malformed one
            packet_end = body + length
            topic_end = body + 2 + ((chunk[body] << 8) | chunk[body + 1])
            start = topic_end + 2 if qos else topic_end
            if start > packet_end:
                break  # malformed: paho's parser says so
            mid = (chunk[topic_end] << 8) | chunk[topic_end + 1] if qos else 0
            if five:
                properties, start = _remaining_length(chunk, start, packet_end)
                start += properties
                if properties < 0 or start > packet_end:
                    break
            try:
                topic = chunk[body + 2:topic_end].decode("utf-8")
            except UnicodeDecodeError:
                break
            messages.append((topic, chunk[start:packet_end], mid, qos))
            pos = packet_end
        if not messages:
            return False
        self._chunk_pos = pos
        with self._msgtime_mutex:
            self._last_bytes_received = mqtt.time_func()
        assert self.publish_handler is not None
        try:
            self.publish_handler(messages)
        except Exception:  # the handler's bug must not take the connection down
            log.exception("message handler failed on %d messages", len(messages))
        return True

    def _sock_recv(self, bufsize: int) -> bytes:
        if self._chunk_pos >= len(self._chunk):
            if self._chunks_left <= 0:
                self._drained = True
                raise BlockingIOError  # paho: "nothing more for now"; a partial packet waits in _in_packet
            self._chunks_left -= 1
            try:
                self._chunk = super()._sock_recv(READ_CHUNK_BYTES)
            except BlockingIOError:
                self._drained = True
                raise
            self._chunk_pos = 0
            if not self._chunk:
                return b""  # the broker closed the connection
        start = self._chunk_pos
        self._chunk_pos = end = min(start + bufsize, len(self._chunk))
        return self._chunk[start:end]

    def _sock_close(self) -> None:
        self._chunk, self._chunk_pos = b"", 0  # bytes of a lost connection must not prefix the next one
        super()._sock_close()


def _remaining_length(data: bytes, pos: int, end: int) -> tuple[int, int]:
    """An MQTT variable byte integer at ``pos``: (value, position after it); (-1, pos) if incomplete."""
    value, shift = 0, 0
    for index in range(pos, min(pos + 4, end)):
        byte = data[index]
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, index + 1
        shift += 7
    return -1, pos


class MqttConsumer:
    def __init__(self, settings: MqttSettings, handle: MessagesHandler,
                 on_connection: ConnectionListener | None = None) -> None:
        self._settings = settings
        self._handle = handle
        self._on_connection = on_connection
        self._connected = threading.Event()
        self._answered = threading.Event()  # the broker accepted or refused our CONNECT
        self._refusal: str | None = None
        self._refusal_is_final = False
        self._stopping = False
        self._attempt = 0
        self.connects = 0
        self._filters = topics(settings)
        self._filters_lock = threading.Lock()
        self._client = self._make_client()

    def set_sites(self, sites: Sequence[str] | None) -> None:
        """Receive only these sites' topics (None: every site); while connected, subscribe the added sites'
        filters and unsubscribe the removed ones at once. Call before ``start`` to begin with them."""
        with self._filters_lock:
            before, self._filters = self._filters, topics(self._settings, sites)
            old, new = set(before), set(self._filters)
            added = [topic for topic in self._filters if topic not in old]
            removed = [topic for topic in before if topic not in new]
        if not self.connected:
            return  # the next CONNACK subscribes the new filters
        self._subscribe(self._client, added)
        for start in range(0, len(removed), FILTERS_PER_PACKET):
            self._client.unsubscribe(removed[start:start + FILTERS_PER_PACKET])

    @property
    def filters(self) -> list[str]:
        with self._filters_lock:
            return list(self._filters)

    def _subscribe(self, client: mqtt.Client, filters: list[str]) -> None:
        qos: int = self._settings.qos
        for start in range(0, len(filters), FILTERS_PER_PACKET):
            client.subscribe([(topic, qos) for topic in filters[start:start + FILTERS_PER_PACKET]])

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def start(self, timeout_s: float = 10.0) -> None:
        """Connect, subscribe and start receiving.

        A broker that cannot be reached yet is retried in the background (backoff ``reconnect_min_s`` to
        ``reconnect_max_s``): ``connected`` says when it answers, and the spool keeps what was acknowledged
        meanwhile. Raises ConfigError when waiting will not mend it: the broker refuses our credentials, our
        authorisation or our client id, or its TLS certificate is not trusted.
        """
        where = f"{self._settings.host}:{self._settings.port}"
        try:
            self._client.connect(self._settings.host, self._settings.port, self._settings.keepalive_s,
                                 **self._connect_options())
        except ssl.SSLError as error:
            raise ConfigError(f"cannot reach MQTT broker {where}: {error}") from error
        except OSError as error:
            log.warning("cannot reach MQTT broker %s: %s; retrying in the background", where, error)
            self._client.connect_async(self._settings.host, self._settings.port, self._settings.keepalive_s,
                                       **self._connect_options())
            self._client.loop_start()  # paho's thread retries the first connection too
            return
        self._client.loop_start()
        self._answered.wait(timeout_s)
        if self._refusal is not None and self._refusal_is_final:
            self.stop()
            raise ConfigError(f"MQTT broker {where} refused the connection: {self._refusal}")
        if not self._connected.is_set():
            why = f"refused the connection: {self._refusal}" if self._refusal else \
                f"did not accept the connection within {timeout_s} s"
            log.warning("MQTT broker %s %s; retrying in the background", where, why)

    def probe(self) -> None:
        """Raise ServiceUnavailable unless connected (a health probe: the state paho's thread keeps)."""
        if not self._connected.is_set():
            raise ServiceUnavailable(f"not connected to MQTT broker {self._settings.host}:{self._settings.port}"
                                     + (f" (refused: {self._refusal})" if self._refusal else ""))

    def stop(self) -> None:
        self._stopping = True
        self._client.disconnect()
        self._client.loop_stop()

    def ack(self, mid: int, qos: int) -> None:
        """Acknowledge one message (thread-safe; a no-op for QoS 0)."""
        if qos:
            self._client.ack(mid, qos)

    def ack_many(self, mids: list[int]) -> None:
        """Acknowledge QoS 1 messages in one write: one queued packet holding every PUBACK, in order.

        paho's public ``ack`` queues each PUBACK separately and wakes its network thread per message
        (a socketpair write, then one ``send`` per PUBACK): at 20k msgs/s that was the largest cost of the
        commit thread. A PUBACK is 4 bytes (MQTT 3.1.1 and 5, success without properties), so we queue
        their concatenation through paho's own ``_packet_queue`` (paho 2.x, thread-safe: ``ack`` uses it
        the same way); without it we fall back to ``ack`` per message.
        """
        queue_packet = getattr(self._client, "_packet_queue", None)
        if queue_packet is None:
            for mid in mids:
                self._client.ack(mid, 1)
            return
        packet = b"".join([_PUBACKS[mid] for mid in mids])
        queue_packet(_PUBACK, packet, 0, 1)

    def publish(self, topic: str, payload: bytes) -> None:
        """Publish a reply (e.g. a Sparkplug rebirth request) at QoS 0."""
        self._client.publish(topic, payload, qos=0)

    def _make_client(self) -> mqtt.Client:
        five = self._settings.protocol == "5"
        # A persistent session lets the broker queue QoS 1 messages while we are away.
        client = ChunkedReadClient(CallbackAPIVersion.VERSION2, client_id=self._settings.client_id,
                             clean_session=None if five else False,
                             protocol=mqtt.MQTTv5 if five else mqtt.MQTTv311, manual_ack=True)
        if self._settings.username:
            password = self._settings.password.get_secret_value() if self._settings.password else None
            client.username_pw_set(self._settings.username, password)
        if self._settings.tls:
            cert, key = self._settings.cert_file, self._settings.key_file
            client.tls_set(ca_certs=str(self._settings.ca_file) if self._settings.ca_file else None,
                           certfile=str(cert) if cert else None, keyfile=str(key) if key else None,
                           cert_reqs=ssl.CERT_REQUIRED)
        self._set_delay(client)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.publish_handler = self._handle
        return client

    def _connect_options(self) -> dict[str, Any]:
        """MQTT 5: keep the session (clean start off) with its expiry and our receive maximum."""
        if self._settings.protocol != "5":
            return {}
        return {"clean_start": False, "properties": self._connect_properties()}

    def _connect_properties(self) -> Properties:
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = self._settings.session_expiry_s
        properties.ReceiveMaximum = min(self._settings.max_inflight, 65535)
        return properties

    def _set_delay(self, client: mqtt.Client) -> None:
        delay = backoff_s(self._attempt, self._settings.reconnect_min_s, self._settings.reconnect_max_s)
        self._attempt += 1
        # paho waits exactly its min delay when min == max; it types them int but sleeps on floats.
        client.reconnect_delay_set(cast(int, delay), cast(int, delay))

    def _on_connect(self, client: mqtt.Client, _userdata: object, _flags: mqtt.ConnectFlags,
                    reason: ReasonCode, _properties: object) -> None:
        if reason.is_failure:
            log.error("MQTT broker refused the connection: %s", reason)
            self._refusal = str(reason)
            self._refusal_is_final = reason.value in FINAL_REFUSALS
            self._answered.set()
            self._set_delay(client)
            return
        # Subscribe on every connect: a broker that lost our session must learn the subscription again.
        self._subscribe(client, self.filters)
        self._attempt = 0
        self._set_delay(client)
        self.connects += 1
        self._refusal, self._refusal_is_final = None, False
        self._connected.set()
        self._answered.set()
        self._notify(True)
        log.info("connected to MQTT broker %s:%d", self._settings.host, self._settings.port)

    def _on_connect_fail(self, client: mqtt.Client, _userdata: object) -> None:
        self._set_delay(client)

    def _on_disconnect(self, client: mqtt.Client, _userdata: object, _flags: mqtt.DisconnectFlags,
                       reason: ReasonCode, _properties: object) -> None:
        self._connected.clear()
        self._notify(False)
        if not self._stopping:
            self._set_delay(client)
            log.warning("disconnected from MQTT broker: %s; reconnecting", reason)

    def _notify(self, connected: bool) -> None:
        if self._on_connection is not None:
            self._on_connection(connected)

    def _on_message(self, _client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        self._handle([(message.topic, bytes(message.payload), message.mid, message.qos)])
