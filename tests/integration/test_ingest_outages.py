"""InfluxDB down during ingest, and a broker restart: nothing lost, the backlog drains while ingest goes on.

The InfluxDB outage lasts 12 s, not the issue's 30 s: what the collector does does not depend on the
length once the store writer's retries reach their cap (``retry_max_s`` = 2 s here, reached after ~5 failed
attempts, ~4 s): from then on it is the same loop of capped retries while the spool grows, and the spool
bound is far away. 12 s covers several capped retries and keeps the suite fast.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from facmon.bench.ingest import BenchCollector
from tests.integration.ingest_helpers import DEVICES, Publisher, count_points, load_assets, wait_for

pytestmark = pytest.mark.integration
OUTAGE_S = 12.0


@pytest.fixture
def collector(mosquitto: Any, influxdb: Any, unique_site: str, tmp_path: Path) -> Iterator[BenchCollector]:
    built = BenchCollector(mosquitto.host, mosquitto.port, influxdb.url, f"outage_{secrets.token_hex(4)}",
                           load_assets(DEVICES, unique_site), tmp_path, f"collector-{unique_site}")
    built.start()
    yield built
    built.stop()


def database_of(collector: BenchCollector) -> str:
    return collector.database


def test_influxdb_outage_loses_nothing_and_the_backlog_drains_while_ingest_continues(
        collector: BenchCollector, mosquitto: Any, influxdb: Any, unique_site: str) -> None:
    database, ingest = database_of(collector), collector.ingest
    publisher = Publisher(mosquitto.host, mosquitto.port, unique_site, rate=400)
    try:
        publisher.publish_in_background(int(400 * (OUTAGE_S + 10)))
        wait_for(lambda: ingest.stats.stored > 200, 30, "the first stored readings")
        influxdb.stop()
        try:
            acked_at_stop = ingest.stats.acknowledged
            time.sleep(OUTAGE_S)
            # Live ingest went on: messages were spooled and acknowledged; the store got nothing.
            assert ingest.stats.acknowledged > acked_at_stop + 400 * OUTAGE_S / 2
            assert ingest.stats.store_errors > 0
            backlog = ingest.spool.backlog()
            assert backlog > 400 * OUTAGE_S / 2
            assert ingest.status()["lagging"] is True
        finally:
            influxdb.start()
        sending_when_back = publisher.sent
        # The backlog drains while the publisher is still sending.
        wait_for(lambda: ingest.spool.backlog() < backlog / 4, 30, "the backlog to drain")
        assert publisher.sent > sending_when_back, "the publisher had stopped: the drain did not overlap ingest"
        publisher.wait_acked(60)
        wait_for(lambda: count_points(influxdb.url, database, unique_site) >= publisher.sent, 60,
                 "every message in InfluxDB")
    finally:
        publisher.close()
    assert count_points(influxdb.url, database, unique_site) == publisher.sent == publisher.acked
    assert ingest.status()["lagging"] is False


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
