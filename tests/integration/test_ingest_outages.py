"""InfluxDB down during ingest, and a broker restart: nothing lost, the backlog drains while ingest goes on.

InfluxDB is stopped for 30 s (the issue's figure) while 400 messages/s keep arriving: about 12,000 messages
wait in the spool, acknowledged, and are stored once InfluxDB is back. The publisher goes on until the
backlog has drained (a condition, not a time: the writer's retry backoff decides when the drain starts).
The test takes about 40 s.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from collector.ingest import Ingest
from facmon.bench.ingest import BenchCollector
from tests.integration.ingest_helpers import (
    DEVICES,
    Publisher,
    count_points,
    load_assets,
    stored_points,
    wait_for,
)

pytestmark = pytest.mark.integration
OUTAGE_S = 30.0
RATE = 400  # messages per second, during and after the outage
UNTIL_STOPPED = RATE * 600  # the publisher's cap: it is stopped long before, once the backlog has drained


@pytest.fixture
def collector(mosquitto: Any, influxdb: Any, unique_site: str, tmp_path: Path) -> Iterator[BenchCollector]:
    built = BenchCollector(mosquitto.host, mosquitto.port, influxdb.url, f"outage_{secrets.token_hex(4)}",
                           load_assets(DEVICES, unique_site), tmp_path, f"collector-{unique_site}")
    built.start()
    yield built
    built.stop()


def database_of(collector: BenchCollector) -> str:
    return collector.database


def reported_store_backlog(ingest: Ingest) -> float:
    """The store consumer's backlog as GET /metrics reports it, read with prometheus_client's parser."""
    for family in text_string_to_metric_families(ingest.metrics.exposition().decode()):
        for sample in family.samples:
            if sample.name == "facmon_collector_spool_backlog_records" and sample.labels == {"consumer": "store"}:
                return float(sample.value)
    raise AssertionError("no facmon_collector_spool_backlog_records{consumer=\"store\"} in the exposition")


def test_influxdb_outage_loses_nothing_and_the_backlog_drains_while_ingest_continues(
        collector: BenchCollector, mosquitto: Any, influxdb: Any, unique_site: str) -> None:
    database, ingest = database_of(collector), collector.ingest
    publisher = Publisher(mosquitto.host, mosquitto.port, unique_site, rate=RATE)
    try:
        publisher.publish_in_background(UNTIL_STOPPED)
        wait_for(lambda: ingest.stats.stored > 200, 30, "the first stored readings")
        influxdb.stop()
        try:
            acked_at_stop = ingest.stats.acknowledged
            reported: list[float] = []  # the store backlog in the exposition, once a second
            statuses: list[int] = []  # the backlog of the collector.status event, once a second
            deadline = time.monotonic() + OUTAGE_S
            while (left := deadline - time.monotonic()) > 0:
                time.sleep(min(1.0, left))
                reported.append(reported_store_backlog(ingest))
                statuses.append(ingest.status()["backlog"])
            # Live ingest went on: messages were spooled and acknowledged, and every one of them waits (the
            # acknowledgement follows the spool write; InfluxDB stopped before ``acked_at_stop``).
            acked_during = ingest.stats.acknowledged - acked_at_stop
            waiting = reported_store_backlog(ingest)
            assert acked_during > RATE, "live ingest stalled while InfluxDB was down"
            assert waiting >= acked_during
            assert ingest.stats.store_errors > 0
            assert ingest.status()["lagging"] is True
            # The backlog was reported all along (a sample takes a moment: fewer than one a second), and only grew.
            assert len(reported) >= OUTAGE_S / 3
            assert all(backlog > 0 for backlog in reported + statuses), (reported, statuses)
            assert reported == sorted(reported), reported
        finally:
            influxdb.start()
        # The backlog drains while the publisher is still sending: the writer outruns live ingest.
        wait_for(lambda: ingest.spool.backlog() < reported[-1] / 4, 60, "the backlog to drain")
        assert publisher.sending, "the publisher stopped before the backlog drained"
        publisher.finish()
        publisher.wait_acked(60)
        # Everything the broker had acknowledged to the publisher is in the spool; the backlog drains to zero.
        wait_for(lambda: ingest.spool.backlog() == 0, 30, "the backlog to drain to zero")
    finally:
        publisher.close()
    total = publisher.sent
    assert publisher.acked == total > RATE * OUTAGE_S
    assert reported_store_backlog(ingest) == 0
    status = ingest.status()
    assert status["backlog"] == 0
    assert status["lagging"] is False
    # Every message is in InfluxDB exactly once: one point per message, at its (asset, ms), with its value.
    points = stored_points(influxdb.url, database, unique_site)
    assert len(points) == total
    assert {(asset, at_ms): value for asset, at_ms, value in points} == publisher.expected_points()
    assert count_points(influxdb.url, database, unique_site) == total
    assert ingest.stats.rejected == {}


@pytest.mark.parametrize("protocol", ["3.1.1", "5"])
def test_broker_restart_reconnects_and_loses_nothing(
        protocol: str, mosquitto: Any, influxdb: Any, unique_site: str, tmp_path: Path) -> None:
    collector = BenchCollector(mosquitto.host, mosquitto.port, influxdb.url, f"restart_{secrets.token_hex(4)}",
                               load_assets(DEVICES, unique_site), tmp_path, f"collector-{unique_site}",
                               protocol=protocol)
    collector.start()
    try:
        restart_broker_around_ingest(collector, mosquitto, influxdb, unique_site)
    finally:
        collector.stop()


def restart_broker_around_ingest(collector: BenchCollector, mosquitto: Any, influxdb: Any, unique_site: str) -> None:
    database = database_of(collector)
    first = Publisher(mosquitto.host, mosquitto.port, unique_site)
    try:
        first.publish(3000)
        first.wait_acked(60)
    finally:
        first.close()
    mosquitto.stop()  # saves the collector's session and what is queued for it
    wait_for(lambda: not collector.consumer.connected, 10, "the collector to notice")
    mosquitto.start()
    wait_for(lambda: collector.consumer.connected, 30, "the collector to reconnect")
    second = Publisher(mosquitto.host, mosquitto.port, unique_site)  # its own base time: distinct points
    try:
        second.publish(3000)
        second.wait_acked(60)
    finally:
        second.close()
    wait_for(lambda: count_points(influxdb.url, database, unique_site) >= 6000, 60, "every message in InfluxDB")
    assert collector.consumer.connects >= 2
    assert count_points(influxdb.url, database, unique_site) == 6000


def test_two_collectors_on_a_shared_subscription_split_the_load_and_store_everything_once(
        mosquitto: Any, influxdb: Any, unique_site: str, tmp_path: Path) -> None:
    database = f"shared_{secrets.token_hex(4)}"
    collectors = [BenchCollector(mosquitto.host, mosquitto.port, influxdb.url, database,
                                 load_assets(DEVICES, unique_site), tmp_path / name, f"collector-{unique_site}-{name}",
                                 protocol="5", shared_group=f"g-{unique_site}") for name in ("a", "b")]
    for collector in collectors:
        collector.start()
    publisher = Publisher(mosquitto.host, mosquitto.port, unique_site)
    try:
        publisher.publish(4000)
        publisher.wait_acked(60)
        wait_for(lambda: count_points(influxdb.url, database, unique_site) >= 4000, 60, "every message in InfluxDB")
    finally:
        publisher.close()
        for collector in collectors:
            collector.stop()
    # readings, not messages received: the broker also hands out retained status messages of other tests
    spooled = [collector.ingest.stats.readings for collector in collectors]
    assert all(count > 0 for count in spooled), f"one collector got nothing: {spooled}"
    assert sum(spooled) == 4000  # each message went to exactly one of them
    assert count_points(influxdb.url, database, unique_site) == 4000
