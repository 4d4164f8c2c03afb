"""The collector's chunked MQTT reader (collector.mqtt.ChunkedReadClient).

Its PUBLISH short path is checked against paho's own packet decoder on generated packets (pure: no
socket), then end to end against real Mosquitto with payloads larger than a read chunk, QoS 0 and 1 mixed,
and MQTT 5 properties: every message arrives once, intact and in order (per QoS, as MQTT orders them).
"""

from __future__ import annotations

import queue
import struct

import paho.mqtt.client as mqtt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from paho.mqtt import _packet
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from collector.mqtt import READ_CHUNK_BYTES, ChunkedReadClient, Message, MqttConsumer, _remaining_length
from core.settings import MqttSettings
from tests.services import Mosquitto

PINGRESP = b"\xd0\x00"


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def publish_packet(topic: str, payload: bytes, qos: int, mid: int, five: bool, user: str | None) -> bytes:
    body = struct.pack("!H", len(topic.encode())) + topic.encode()
    if qos:
        body += struct.pack("!H", mid)
    if five:
        properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        if user is not None:
            properties.UserProperty = ("k", user)
        body += properties.pack()  # type: ignore[no-untyped-call]
    body += payload
    return bytes([0x30 | qos << 1]) + varint(len(body)) + body


def client(five: bool) -> tuple[ChunkedReadClient, list[Message]]:
    reader = ChunkedReadClient(CallbackAPIVersion.VERSION2, client_id="t",
                               protocol=mqtt.MQTTv5 if five else mqtt.MQTTv311, manual_ack=True)
    got: list[Message] = []
    reader.publish_handler = got.extend
    return reader, got


def take_all(reader: ChunkedReadClient, data: bytes) -> None:
    reader._chunk, reader._chunk_pos = data, 0
    while reader._take_publishes():
        pass


def paho_decodes(packet: bytes, five: bool) -> Message:
    """What paho's own parser makes of one whole packet."""
    _length, body = _remaining_length(packet, 1, len(packet))
    result = _packet.decode_publish(packet[0], packet[body:], mqtt.MQTTv5 if five else mqtt.MQTTv311)
    return result.topic.decode(), bytes(result.payload), result.mid, result.qos


mqtt_text = st.characters(codec="utf-8", exclude_characters="\x00")  # MQTT strings: UTF-8, no U+0000
messages = st.lists(st.tuples(st.text(mqtt_text, min_size=1, max_size=40), st.binary(max_size=300),
                              st.sampled_from([0, 1]), st.integers(1, 0xFFFF),
                              st.none() | st.text(mqtt_text, max_size=20)),
                    min_size=1, max_size=20)


@given(varied=messages, five=st.booleans(), cut=st.integers(0, 10_000))
def test_the_short_path_reads_what_paho_reads_and_leaves_a_partial_packet(
        varied: list[tuple[str, bytes, int, int, str | None]], five: bool, cut: int) -> None:
    packets = [publish_packet(topic, payload, qos, mid, five, user) for topic, payload, qos, mid, user in varied]
    data = b"".join(packets)
    cut = min(cut, len(data))
    whole = 0  # packets entirely before the cut
    while whole < len(packets) and sum(map(len, packets[:whole + 1])) <= cut:
        whole += 1
    reader, got = client(five)
    take_all(reader, data[:cut])
    assert got == [paho_decodes(packet, five) for packet in packets[:whole]]
    assert reader._chunk_pos == sum(map(len, packets[:whole]))  # a partial packet is left for paho


@given(five=st.booleans())
def test_any_other_packet_stops_the_short_path_where_it_starts(five: bool) -> None:
    first = publish_packet("a/b", b"1", 1, 7, five, None)
    qos2 = bytes([0x34]) + publish_packet("a/b", b"2", 1, 8, five, None)[1:]  # QoS 2: paho's handshake
    for other in (PINGRESP, qos2):
        reader, got = client(five)
        take_all(reader, first + other + first)
        assert got == [("a/b", b"1", 7, 1)]
        assert reader._chunk_pos == len(first)


@given(value=st.integers(0, 268_435_455))
def test_remaining_length_reads_every_mqtt_varint(value: int) -> None:
    encoded = varint(value)
    assert _remaining_length(b"x" + encoded + b"rest", 1, len(encoded) + 5) == (value, 1 + len(encoded))
    assert _remaining_length(b"x" + encoded[:-1], 1, len(encoded)) == (-1, 1)  # incomplete


def test_a_varint_longer_than_four_bytes_is_not_read() -> None:
    assert _remaining_length(b"\xff\xff\xff\xff\x01", 0, 5) == (-1, 0)


@pytest.mark.integration
@pytest.mark.parametrize("protocol", ["3.1.1", "5"])
def test_every_message_arrives_once_intact_and_in_order(mosquitto: Mosquitto, unique_site: str,
                                                        protocol: str) -> None:
    five = protocol == "5"
    topic = f"facmon/v1/{unique_site}/pump/p1/telemetry"
    sent = [(b"%d:" % n) + bytes([n % 251]) * (n % 700) for n in range(3000)]
    sent[100] = sent[2000] = b"L" * (READ_CHUNK_BYTES + 12_345)  # larger than one read
    sent[5] = b""
    received: queue.Queue[Message] = queue.Queue()
    settings = MqttSettings(host=mosquitto.host, port=mosquitto.port, client_id=f"reader-{unique_site}",
                            protocol=protocol, sparkplug=False)

    def handle(batch: list[Message]) -> None:
        for message in batch:
            if message[0] == topic:  # other tests' sites may have retained messages on the shared broker
                received.put(message)
        consumer.ack_many([mid for _topic, _payload, mid, qos in batch if qos])  # or MQTT 5 stops at 1000

    consumer = MqttConsumer(settings, handle)
    consumer.start()
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5 if five else mqtt.MQTTv311)
    publisher.connect(mosquitto.host, mosquitto.port)
    publisher.loop_start()
    try:
        properties = None
        if five:
            properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            properties.UserProperty = ("origin", "test")
        infos = [publisher.publish(topic, payload, qos=n % 2, properties=properties) for n, payload in enumerate(sent)]
        for info in infos:
            info.wait_for_publish(30)
        got = [received.get(timeout=60) for _ in sent]
    finally:
        publisher.disconnect()
        publisher.loop_stop()
        consumer.stop()
    assert {t for t, _p, _mid, _q in got} == {topic}
    for qos in (0, 1):  # MQTT keeps the order of one publisher's messages at one QoS
        assert [p for _t, p, _mid, q in got if q == qos] == sent[qos::2]
    assert received.empty()
