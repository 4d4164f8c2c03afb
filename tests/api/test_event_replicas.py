"""API replicas on one PostgreSQL (``events.channel = "postgresql"``): a console on either replica sees the
alarms a partition raises in another process, and resumes on the other replica after the last id it saw.

Each "process" here has its own engine, bus and event channel, as separate processes would: the log tells
them apart by the bus's origin, and nothing is shared in memory except the Python interpreter."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from api.app import create_app
from api.deps import Services
from core.clock import ManualClock
from core.events import STOPPING, Event, EventBus
from rules.pack import default_rules
from rules.service import RulesService
from storage.records import Database
from storage.records.event_channel import attach_event_channel
from storage.sqlite_telemetry import SqliteTelemetryStore
from tests.api.conftest import START, LiveServer, pump_readings, seed_records, serve
from tests.api.test_routes_events import next_message, stream
from workorders.book import WorkOrderBook

pytestmark = pytest.mark.integration


@dataclass
class Process:
    services: Services
    url: str = ""  # an API replica's address

    @property
    def bus(self) -> EventBus:
        return self.services.bus


@pytest.fixture
def deployment(pg_url: str, tmp_path: Path) -> Iterator[tuple[Process, Process, Process, str]]:
    """A partition (rules, no API) and two API replicas, as three processes on one records database;
    and the admin's token."""
    token = seed_records(pg_url)
    with ExitStack() as stack:
        processes = [stack.enter_context(process(pg_url, tmp_path / f"p{n}")) for n in range(3)]
        partition, *replicas = processes
        for replica in replicas:
            replica.url = stack.enter_context(serve_until_stopping(replica)).url
        yield partition, replicas[0], replicas[1], token


@contextmanager
def process(pg_url: str, folder: Path) -> Iterator[Process]:
    """One process's parts, its bus on the shared event log."""
    folder.mkdir()
    db, bus, clock = Database(pg_url), EventBus(), ManualClock(START)
    channel = attach_event_channel(bus, db)
    store = SqliteTelemetryStore(folder / "telemetry.db")
    book = WorkOrderBook(db, bus, clock)
    rules = RulesService(default_rules(), db, book, bus, clock)
    try:
        yield Process(Services(db=db, store=store, book=book, rules=rules, bus=bus, clock=clock))
    finally:
        channel.close()
        store.close()
        db.dispose()


@contextmanager
def serve_until_stopping(replica: Process) -> Iterator[LiveServer]:
    """The replica's API on uvicorn; its open streams end (STOPPING) before the server stops."""
    with serve(create_app(replica.services)) as server:
        try:
            yield server
        finally:
            replica.bus.publish(STOPPING, {})


def raise_burst_pipe(partition: Process, asset_id: str = "north-pump-1", site_id: str = "north") -> None:
    clock = partition.services.clock
    assert isinstance(clock, ManualClock)
    for reading in pump_readings(asset_id, site_id, clock.now(), 5, flow_m3h=72.0, discharge_bar=0.9):
        clock.advance(timedelta(minutes=1))
        partition.services.rules.process([reading])
    assert partition.services.db.alarms.find_open("pump_burst_pipe", asset_id) is not None


def test_an_alarm_raised_by_a_partition_reaches_a_console_on_the_second_api_replica(
        deployment: tuple[Process, Process, Process, str]) -> None:
    partition, _first, second, token = deployment
    with stream(f"{second.url}/api/v1/events?topic=alarm.", {"Authorization": f"Bearer {token}"}) as lines:
        raise_burst_pipe(partition)
        event_id, topic, data = next_message(lines)
    assert (topic, data["rule_id"], data["asset_id"]) == ("alarm.raised", "pump_burst_pipe", "north-pump-1")
    assert second.bus.parse_id(event_id) is not None  # the log's id, which every replica knows


def test_a_console_resumes_on_the_other_replica_after_the_last_id_it_saw(
        deployment: tuple[Process, Process, Process, str]) -> None:
    partition, first, second, token = deployment
    auth = {"Authorization": f"Bearer {token}"}
    with stream(f"{first.url}/api/v1/events?topic=test.", auth) as lines:
        partition.bus.publish("test.n", {"n": 0})
        last_id, _, _ = next_message(lines)
    for n in range(1, 6):  # while the console reconnects, through the load balancer, to the other replica
        partition.bus.publish("test.n", {"n": n})
        partition.bus.publish("other.n", {"n": n})
    with stream(f"{second.url}/api/v1/events?topic=test.", {**auth, "Last-Event-ID": last_id}) as lines:
        resumed = [next_message(lines) for _ in range(5)]
        first.bus.publish("test.n", {"n": 6})  # and live after it, from any process
        resumed.append(next_message(lines))
    assert [data["n"] for _, _, data in resumed] == [1, 2, 3, 4, 5, 6], "an event was missed or came twice"
    seqs = [second.bus.parse_id(event_id) for event_id, _, _ in resumed]
    assert seqs == sorted(seqs)


def test_a_work_order_event_of_one_process_reaches_the_subscribers_of_another(
        deployment: tuple[Process, Process, Process, str]) -> None:
    partition, first, _second, _token = deployment
    heard: list[Event] = []
    done = first.bus.subscribe(heard.append, "workorder.opened")  # e.g. the scheduler's emergency runner
    raise_burst_pipe(partition)  # the burst pipe opens an emergency order
    deadline = time.monotonic() + 5
    while not heard and time.monotonic() < deadline:
        time.sleep(0.01)
    done()
    assert [event.data["asset_id"] for event in heard] == ["north-pump-1"]
