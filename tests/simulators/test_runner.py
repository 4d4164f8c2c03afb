"""SimulatorRunner against a real Mosquitto: telemetry on the right topics, last will on an offline fault."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from core.catalogue import CATALOGUE
from core.clock import ManualClock
from core.domain import AssetKind, Reading, Site
from core.errors import InvalidMessage
from core.wire import OFFLINE, ONLINE, TOPIC_ROOT, decode_reading, parse_topic
from simulators.portfolio import Portfolio
from simulators.runner import SimulatorRunner
from simulators.scenario import Fault, Scenario
from tests.simulators.helpers import MONDAY, asset

pytestmark = pytest.mark.integration


class Recorder:
    """A paho subscriber that keeps every message under the test's site."""

    def __init__(self, host: str, port: int, site: str) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"recorder-{site}")
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.connect(host, port)
        self.client.subscribe(f"{TOPIC_ROOT}/{site}/#", qos=1)
        self.client.loop_start()
        assert self._subscribed.wait(5), "the recorder could not subscribe"

    def _on_message(self, _client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((message.topic, bytes(message.payload)))

    def statuses(self, asset_id: str) -> list[bytes]:
        with self._lock:
            return [payload for topic, payload in self.messages if topic.endswith(f"/{asset_id}/status")]

    def telemetry(self) -> list[tuple[str, bytes]]:
        with self._lock:
            return [(topic, payload) for topic, payload in self.messages if topic.endswith("/telemetry")]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def recorder(mosquitto: Any, unique_site: str) -> Iterator[Recorder]:
    recorder = Recorder(mosquitto.host, mosquitto.port, unique_site)
    yield recorder
    recorder.close()


def wait_for(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s} s")
        time.sleep(0.02)


def advance(clock: ManualClock, until: timedelta, step: timedelta = timedelta(minutes=1)) -> None:
    """Move the clock in steps, giving the scheduler time to publish each."""
    while clock.now() < MONDAY + until:
        clock.advance(step)
        time.sleep(0.01)


def test_devices_publish_decodable_telemetry_and_an_offline_fault_fires_the_last_will(
        mosquitto: Any, unique_site: str, recorder: Recorder) -> None:
    pump = asset(AssetKind.PUMP, f"{unique_site}-pump-1", site_id=unique_site, role="duty")
    lift = asset(AssetKind.ELEVATOR, f"{unique_site}-lift-1", site_id=unique_site)
    light = asset(AssetKind.LIGHTING, f"{unique_site}-light-1", site_id=unique_site, rated_w=500)
    portfolio = Portfolio([Site(unique_site, "Test site")], [pump, lift, light])
    clock = ManualClock(MONDAY)
    scenario = Scenario([Fault("offline", lift.id, timedelta(minutes=20), timedelta(minutes=15))])
    runner = SimulatorRunner(portfolio, clock, mosquitto.host, mosquitto.port, seed=4, scenario=scenario,
                             malformed_every_s=600)
    runner.start()
    try:
        wait_for(lambda: all(recorder.statuses(unit.id)[-1:] == [ONLINE.encode()] for unit in portfolio.assets))
        advance(clock, timedelta(minutes=25))
        # The lift dropped its connection without DISCONNECT: the broker tells everyone it is offline.
        wait_for(lambda: recorder.statuses(lift.id)[-1:] == [OFFLINE.encode()])
        advance(clock, timedelta(minutes=90))
        wait_for(lambda: recorder.statuses(lift.id)[-1:] == [ONLINE.encode()])
        wait_for(lambda: len(recorder.telemetry()) >= runner.stats.published + runner.stats.malformed_injected)
    finally:
        runner.stop()
    wait_for(lambda: recorder.statuses(pump.id)[-1:] == [OFFLINE.encode()])  # stop() says goodbye

    readings: dict[str, list[Reading]] = {}
    rejected = 0
    for topic, payload in recorder.telemetry():
        try:
            reading = decode_reading(parse_topic(topic), payload)
        except InvalidMessage:
            rejected += 1
            continue
        if set(reading.metrics) != set(CATALOGUE[reading.kind]):
            rejected += 1  # the injected unknown or out-of-range metric
            continue
        series = readings.setdefault(reading.asset_id, [])
        if not any(r.seq == reading.seq for r in series[-50:]):  # QoS 1 is at least once: resent after the drop
            series.append(reading)
    stats = runner.stats
    assert stats.malformed_injected == rejected >= 5
    assert stats.published == sum(len(series) for series in readings.values())
    assert stats.by_asset == {unit_id: len(series) for unit_id, series in readings.items()}
    assert set(readings) == {pump.id, lift.id, light.id}
    assert len(readings[pump.id]) >= 80
    assert [r.seq for r in readings[pump.id]] == list(range(1, len(readings[pump.id]) + 1))
    # The lift said nothing while it was offline, and its sequence numbers show the gap.
    lift_times = [r.at for r in readings[lift.id]]
    assert not [at for at in lift_times if MONDAY + timedelta(minutes=20) <= at < MONDAY + timedelta(minutes=35)]
    assert any(at >= MONDAY + timedelta(minutes=35) for at in lift_times)
    assert len(readings[light.id]) >= 15


def test_a_malformed_fault_replaces_the_device_reports_with_garbage_while_it_lasts(
        mosquitto: Any, unique_site: str, recorder: Recorder) -> None:
    pump = asset(AssetKind.PUMP, f"{unique_site}-pump-1", site_id=unique_site, role="duty")
    clock = ManualClock(MONDAY)
    scenario = Scenario([Fault("malformed", pump.id, timedelta(minutes=10), timedelta(minutes=10))])
    runner = SimulatorRunner(Portfolio([Site(unique_site, "Test site")], [pump]), clock, mosquitto.host,
                             mosquitto.port, seed=1, scenario=scenario)
    runner.start()
    try:
        wait_for(lambda: recorder.statuses(pump.id)[-1:] == [ONLINE.encode()])
        advance(clock, timedelta(minutes=30))
        wait_for(lambda: len(recorder.telemetry()) >= 30)
    finally:
        runner.stop()
    good, bad = 0, 0
    for topic, payload in recorder.telemetry():
        try:
            reading = decode_reading(parse_topic(topic), payload)
            good += set(reading.metrics) == set(CATALOGUE[AssetKind.PUMP])
            bad += set(reading.metrics) != set(CATALOGUE[AssetKind.PUMP])
        except InvalidMessage:
            bad += 1
    assert bad == runner.stats.malformed_injected == 10
    assert good == runner.stats.published == 20
