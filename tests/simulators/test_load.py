"""The load generator: its MQTT packets, and its rate against a real Mosquitto, counted by a subscriber."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from paho.mqtt.enums import CallbackAPIVersion

from core.wire import TOPIC_ROOT, decode_reading, parse_topic
from facmon.cli import main
from simulators.load import _varint, load_assets, run_load


def decode_varint(data: bytes) -> int:
    value = 0
    for position, byte in enumerate(data):
        value += (byte & 0x7F) << (7 * position)
    return value


@given(st.integers(min_value=0, max_value=268_435_455))
def test_remaining_length_round_trips_in_one_to_four_bytes(value: int) -> None:
    encoded = _varint(value)
    assert decode_varint(encoded) == value
    assert len(encoded) in range(1, 5)
    assert all(byte & 0x80 for byte in encoded[:-1])
    assert not encoded[-1] & 0x80


def test_load_assets_are_distinct_pumps_of_the_load_site() -> None:
    assets = load_assets(1000, "site-x")
    assert len({a.id for a in assets}) == 1000
    assert {a.site_id for a in assets} == {"site-x"}


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"devices": 0}, "positive"), ({"qos": 2}, "qos"), ({"rate": -1.0}, "rate"), ({"duration_s": 0}, "positive"),
])
def test_bad_arguments_are_refused(kwargs: dict[str, float], message: str) -> None:
    arguments: dict[str, float | None] = {"devices": 10, "rate": 100.0, "duration_s": 1.0, "qos": 1}
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        run_load("127.0.0.1", 1, int(arguments["devices"] or 0), arguments["rate"], float(arguments["duration_s"] or 0),
                 qos=int(arguments["qos"] or 0))


class Counter:
    """Counts (and decodes a sample of) what arrives under one site."""

    def __init__(self, host: str, port: int, site: str) -> None:
        self.count = 0
        self.seqs: set[tuple[str, int]] = set()
        self.bad = 0
        self._lock = threading.Lock()
        subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"counter-{site}")
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.connect(host, port)
        self.client.subscribe(f"{TOPIC_ROOT}/{site}/#", qos=1)
        self.client.loop_start()
        assert subscribed.wait(5), "no SUBACK from the broker"

    def _on_message(self, _client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        try:
            reading = decode_reading(parse_topic(message.topic), message.payload)
        except Exception:
            self.bad += 1
            return
        with self._lock:
            self.count += 1
            self.seqs.add((reading.asset_id, reading.seq or 0))

    def settle(self, expected: int, timeout_s: float = 10.0) -> int:
        deadline = time.monotonic() + timeout_s
        while self.count < expected and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)  # and nothing more arrives
        return self.count

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.mark.integration
def test_load_reaches_its_rate_and_loses_nothing_at_qos_1(mosquitto: object, unique_site: str) -> None:
    host, port = mosquitto.host, mosquitto.port  # type: ignore[attr-defined]
    counter = Counter(host, port, unique_site)
    try:
        result = run_load(host, port, devices=500, rate=2000.0, duration_s=3.0, qos=1, processes=2,
                          site_id=unique_site)
        received = counter.settle(result.sent)
    finally:
        counter.close()
    assert abs(result.achieved_rate - 2000) <= 0.05 * 2000, result
    assert 0.95 * 6000 <= result.sent <= 1.05 * 6000
    assert result.acknowledged == result.sent
    assert counter.bad == 0
    assert received == result.sent  # none lost, none duplicated
    assert len(counter.seqs) == result.sent
    assert len({asset for asset, _ in counter.seqs}) == 500  # every device topic used


def test_a_count_must_be_positive() -> None:
    with pytest.raises(ValueError, match="messages"):
        run_load("127.0.0.1", 1, 10, None, 1.0, messages=0)


@pytest.mark.integration
@pytest.mark.parametrize(("processes", "connections", "messages"), [(3, 2, 7_777), (2, 1, 1), (1, 3, 4_001)])
def test_count_mode_publishes_exactly_n_and_every_one_arrives(mosquitto: object, unique_site: str, processes: int,
                                                              connections: int, messages: int) -> None:
    """N split over processes and connections (N not a multiple of either, or smaller than the processes):
    exactly N published, all acknowledged, each received once."""
    host, port = mosquitto.host, mosquitto.port  # type: ignore[attr-defined]
    counter = Counter(host, port, unique_site)
    try:
        result = run_load(host, port, devices=500, rate=None, duration_s=60.0, qos=1, processes=processes,
                          connections=connections, window=100, site_id=unique_site, messages=messages)
        received = counter.settle(messages)
    finally:
        counter.close()
    assert result.sent == messages
    assert result.acknowledged == messages
    assert result.processes == min(processes, messages)
    assert counter.bad == 0
    assert received == messages
    assert len(counter.seqs) == messages


@pytest.mark.integration
def test_count_mode_at_a_rate_is_paced_and_exact(mosquitto: object, unique_site: str) -> None:
    host, port = mosquitto.host, mosquitto.port  # type: ignore[attr-defined]
    result = run_load(host, port, devices=100, rate=2000.0, duration_s=60.0, qos=1, processes=2,
                      site_id=unique_site, messages=1_000)
    assert result.sent == result.acknowledged == 1_000
    assert result.seconds >= 0.4  # 1,000 at 2,000/s cannot take less than ~0.5 s: pacing held


@pytest.mark.integration
def test_count_mode_at_qos_0_sends_exactly_n(mosquitto: object, unique_site: str) -> None:
    host, port = mosquitto.host, mosquitto.port  # type: ignore[attr-defined]
    result = run_load(host, port, devices=100, rate=None, duration_s=60.0, qos=0, site_id=unique_site,
                      messages=3_333)
    assert result.sent == 3_333
    assert result.acknowledged is None


@pytest.mark.integration
def test_the_duration_is_a_safety_timeout_in_count_mode(mosquitto: object, unique_site: str) -> None:
    """A count that cannot be reached within the duration stops at the duration, saying how far it got."""
    host, port = mosquitto.host, mosquitto.port  # type: ignore[attr-defined]
    result = run_load(host, port, devices=100, rate=1000.0, duration_s=0.5, qos=1, processes=1,
                      site_id=unique_site, messages=1_000_000)
    assert 0 < result.sent < 1_000_000
    assert result.acknowledged == result.sent


@pytest.mark.integration
def test_sim_load_messages_option_publishes_exactly_n(mosquitto: Any, unique_site: str,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", "load", "--host", mosquitto.host, "--port", str(mosquitto.port), "--devices", "50",
                 "--messages", "1234", "--processes", "2", "--site", unique_site]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["sent"] == result["acknowledged"] == 1234
