"""The Sparkplug B gateway (births, aliases, data by alias, deaths, seq, bdSeq, rebirth) and line-protocol
devices: pure session tests, and runs against a real Mosquitto read back by the collector's own decoders."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from collector.sparkplug import SparkplugSession
from core.catalogue import CATALOGUE
from core.clock import ManualClock
from core.domain import AssetKind, Reading, Site
from core.lineprotocol import parse_lines
from core.sparkplug import BD_SEQ, MessageType, decode_payload, parse_spb_topic, rebirth_command, spb_topic
from core.wire import parse_topic
from simulators.gateway import GatewaySession, edge_node_id
from simulators.portfolio import Portfolio
from simulators.runner import SimulatorRunner
from simulators.scenario import Fault, Scenario
from tests.simulators.helpers import MONDAY, asset

PUMP = asset(AssetKind.PUMP, "s1-pump-1", role="duty")
LIFT = asset(AssetKind.ELEVATOR, "s1-lift-1")


def test_aliases_are_unique_over_the_edge_node_and_births_name_them_all() -> None:
    session = GatewaySession("s1", [PUMP, LIFT])
    session.new_session(MONDAY)
    aliases = [alias for names in session.aliases.values() for alias in names.values()]
    assert len(aliases) == len(set(aliases)) == len(CATALOGUE[AssetKind.PUMP]) + len(CATALOGUE[AssetKind.ELEVATOR])
    births = session.births(MONDAY)
    assert [parse_spb_topic(topic).message_type for topic, _ in births] == [
        MessageType.NBIRTH, MessageType.DBIRTH, MessageType.DBIRTH]
    node, first = decode_payload(births[0][1]), decode_payload(births[1][1])
    assert node.seq == 0
    assert [m.value for m in node.metrics if m.name == BD_SEQ] == [0]
    assert first.seq == 1
    assert {m.name: m.alias for m in first.metrics} == session.aliases[PUMP.id]


def test_data_goes_by_alias_with_a_wrapping_seq_and_a_rebirth_restarts_it() -> None:
    session = GatewaySession("s1", [PUMP])
    session.new_session(MONDAY)
    session.births(MONDAY)
    reading = Reading("s1", AssetKind.PUMP, PUMP.id, MONDAY, {"running": True, "flow_m3h": 20.5})
    seqs = []
    for _ in range(300):
        payload = decode_payload(session.data(reading)[1])
        seqs.append(payload.seq)
    assert all(m.name is None and m.alias is not None for m in payload.metrics)
    assert seqs[:3] == [2, 3, 4]
    assert seqs[254] == 0  # 255 wraps to 0
    assert session.command(b"not protobuf", MONDAY) == []
    again = session.command(rebirth_command(MONDAY), MONDAY)
    assert decode_payload(again[0][1]).seq == 0
    rebirth = decode_payload(again[1][1])
    assert {m.name: m.value for m in rebirth.metrics}["flow_m3h"] == 20.5  # the birth carries the last values


def test_each_mqtt_session_has_the_next_bd_seq_in_its_will() -> None:
    session = GatewaySession("s1", [PUMP])
    wills = [decode_payload(session.new_session(MONDAY)[1]) for _ in range(3)]
    assert [[m.value for m in will.metrics] for will in wills] == [[0], [1], [2]]


class Recorder:
    def __init__(self, host: str, port: int, topic_filter: str) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()
        subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"rec-{time.monotonic_ns()}")
        self.client.on_message = lambda _c, _u, m: self._keep(m.topic, bytes(m.payload))
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.connect(host, port)
        self.client.subscribe(topic_filter, qos=1)
        self.client.loop_start()
        assert subscribed.wait(5), "the recorder could not subscribe"

    def _keep(self, topic: str, payload: bytes) -> None:
        with self._lock:
            self.messages.append((topic, payload))

    def of(self, kind: MessageType) -> list[bytes]:
        with self._lock:
            return [p for t, p in self.messages if t.startswith("spBv1.0/") and parse_spb_topic(t).message_type is kind]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def wait_for(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout_s} s"
        time.sleep(0.02)


def advance(clock: ManualClock, until: timedelta) -> None:
    while clock.now() < MONDAY + until:
        clock.advance(timedelta(minutes=1))
        time.sleep(0.01)


@pytest.mark.integration
def test_a_sparkplug_gateway_is_read_back_by_the_collector_session(mosquitto: Any, unique_site: str) -> None:
    pump = asset(AssetKind.PUMP, f"{unique_site}-pump-1", site_id=unique_site, role="duty")
    lift = asset(AssetKind.ELEVATOR, f"{unique_site}-lift-1", site_id=unique_site)
    portfolio = Portfolio([Site(unique_site, "Test")], [pump, lift])
    recorder = Recorder(mosquitto.host, mosquitto.port, f"spBv1.0/{unique_site}/#")
    clock = ManualClock(MONDAY)
    scenario = Scenario([Fault("offline", lift.id, timedelta(minutes=12), timedelta(minutes=5))])
    runner = SimulatorRunner(portfolio, clock, mosquitto.host, mosquitto.port, seed=2, scenario=scenario,
                             payload_format="sparkplug")
    runner.start()
    try:
        wait_for(lambda: len(recorder.of(MessageType.DBIRTH)) == 2)
        advance(clock, timedelta(minutes=10))
        recorder.client.publish(spb_topic(unique_site, MessageType.NCMD, edge_node_id(unique_site)),
                                rebirth_command(clock.now()), qos=1)
        wait_for(lambda: len(recorder.of(MessageType.NBIRTH)) == 2)
        advance(clock, timedelta(minutes=40))
        wait_for(lambda: runner.stats.by_asset.get(pump.id, 0) >= 39)
        wait_for(lambda: len(recorder.of(MessageType.DDATA)) >= runner.stats.published)
    finally:
        runner.stop()
    wait_for(lambda: len(recorder.of(MessageType.NDEATH)) == 1)
    recorder.close()

    session, readings = SparkplugSession(), []
    assets = {pump.id: pump, lift.id: lift}
    for topic, payload in recorder.messages:
        address = parse_spb_topic(topic)
        outcome = session.handle(address, decode_payload(payload), assets.get(address.device or ""), MONDAY)
        assert outcome.reply == []  # no seq gap, no unknown alias: the host never asks for a rebirth
        if address.message_type is MessageType.DDATA:  # (births carry the last values too)
            readings.extend(outcome.readings)
    assert session.seq_gaps == {}
    assert len(recorder.of(MessageType.DDEATH)) == 1  # the lift's offline fault
    assert len(recorder.of(MessageType.DBIRTH)) == 5  # 2 at connect, 2 on rebirth, 1 back online
    assert len(readings) == runner.stats.published
    assert all(set(r.metrics) == set(CATALOGUE[r.kind]) for r in readings)
    pump_times = [r.at for r in readings if r.asset_id == pump.id]
    assert pump_times == sorted(pump_times)
    assert len(pump_times) >= 39
    lift_times = [r.at for r in readings if r.asset_id == lift.id]
    assert not [at for at in lift_times if MONDAY + timedelta(minutes=12) <= at < MONDAY + timedelta(minutes=17)]
    death = decode_payload(recorder.of(MessageType.NDEATH)[0])
    birth = decode_payload(recorder.of(MessageType.NBIRTH)[0])
    assert [m.value for m in death.metrics if m.name == BD_SEQ] == [m.value for m in birth.metrics if m.name == BD_SEQ]


@pytest.mark.integration
def test_line_protocol_devices_publish_on_the_lp_channel(mosquitto: Any, unique_site: str) -> None:
    light = asset(AssetKind.LIGHTING, f"{unique_site}-light-1", site_id=unique_site, rated_w=500)
    recorder = Recorder(mosquitto.host, mosquitto.port, f"facmon/v1/{unique_site}/#")
    clock = ManualClock(MONDAY)
    runner = SimulatorRunner(Portfolio([Site(unique_site, "Test")], [light]), clock, mosquitto.host, mosquitto.port,
                             payload_format="lp")
    runner.start()
    try:
        advance(clock, timedelta(hours=1))
        wait_for(lambda: len([t for t, _ in recorder.messages if t.endswith("/lp")]) >= runner.stats.published >= 12)
    finally:
        runner.stop()
        recorder.close()
    lines = [(t, p) for t, p in recorder.messages if t.endswith("/lp")]
    readings = [r for t, p in lines for r in parse_lines(p.decode(), parse_topic(t))]
    assert len(readings) == runner.stats.published
    assert all(set(r.metrics) == set(CATALOGUE[AssetKind.LIGHTING]) for r in readings)
    assert [r.at for r in readings] == sorted(r.at for r in readings)
