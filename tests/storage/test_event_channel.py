"""The shared event stream on a real PostgreSQL: buses of several processes publish into one log and each
follows it in id order (``storage.records.event_channel``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from core.errors import ConfigError
from core.events import Event, EventBus
from storage.records import Database
from storage.records.event_channel import EventChannel, attach_event_channel, take_in_order
from storage.records.event_log import EventLog

pytestmark = pytest.mark.integration


def events(*seqs: int) -> list[Event]:
    return [Event("x", {}, seq=seq) for seq in seqs]


def test_events_that_follow_the_cursor_without_a_hole_are_taken_at_once() -> None:
    taken, hole = take_in_order(events(4, 5, 6), 3, None, now=10.0, wait_s=0.5)
    assert [e.seq for e in taken] == [4, 5, 6]
    assert hole is None


def test_a_hole_is_waited_for_then_passed() -> None:
    taken, hole = take_in_order(events(4, 6, 7), 3, None, now=10.0, wait_s=0.5)
    assert [e.seq for e in taken] == [4]
    assert hole == 10.0
    taken, hole = take_in_order(events(6, 7), 4, hole, now=10.3, wait_s=0.5)
    assert taken == []
    assert hole == 10.0
    taken, hole = take_in_order(events(6, 7), 4, hole, now=10.6, wait_s=0.5)
    assert [e.seq for e in taken] == [6, 7]
    assert hole is None


@pytest.fixture
def pg_db(migrated_pg: str) -> Iterator[Database]:
    database = Database(migrated_pg)
    with database.engine.begin() as connection:
        connection.execute(text("TRUNCATE event_log RESTART IDENTITY"))
    yield database
    database.dispose()


@pytest.fixture
def attach(pg_db: Database) -> Iterator[Callable[..., tuple[EventBus, EventChannel]]]:
    """A new bus on the shared log (another process, as far as the log can tell); closed after the test."""
    channels: list[EventChannel] = []

    def make(**options: float) -> tuple[EventBus, EventChannel]:
        bus = EventBus()
        channels.append(attach_event_channel(bus, pg_db, **options))
        return bus, channels[-1]

    yield make
    for channel in channels:
        channel.close()


def wait_for(condition: Callable[[], Any], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_an_event_reaches_the_other_process_subscribers_and_both_rings_under_one_id(attach: Any) -> None:
    first, _ = attach()
    second, _ = attach()
    heard_first: list[Event] = []
    heard_second: list[Event] = []
    first.subscribe(heard_first.append)
    second.subscribe(heard_second.append, "alarm.")
    first.publish("alarm.raised", {"id": 7, "at": datetime(2026, 12, 5, tzinfo=UTC)})
    wait_for(lambda: heard_second and first.last_seq and second.last_seq)
    assert [e.topic for e in heard_first] == ["alarm.raised"]  # its own event once, at publish time
    assert heard_second[0].data == {"id": 7, "at": "2026-12-05T00:00:00+00:00"}  # as the stream writes it
    assert first.epoch == second.epoch
    assert first.since(0) == second.since(0)
    assert [e.id for e in second.since(0) or []] == [f"{second.epoch}-1"]


def test_local_topics_stay_in_their_process(attach: Any) -> None:
    first, _ = attach()
    second, _ = attach()
    heard: list[str] = []
    second.subscribe(lambda e: heard.append(e.topic))
    for topic in ("collector.status", "device.status", "system.stopping", "workorder.opened"):
        first.publish(topic, {})
    wait_for(lambda: heard)
    time.sleep(0.2)
    assert heard == ["workorder.opened"]
    assert first.stopping
    assert not second.stopping


def test_a_new_process_starts_with_the_logs_newest_events_and_replays_after_an_id(attach: Any) -> None:
    first, _ = attach()
    for n in range(5):
        first.publish("test.n", {"n": n})
    wait_for(lambda: first.last_seq == 5)
    second, _ = attach()
    assert [e.data["n"] for e in second.since(2) or []] == [2, 3, 4]
    assert second.since(-1) is None  # older than the log keeps


def test_a_lower_id_committed_after_a_higher_one_is_delivered_in_order(pg_db: Database, attach: Any) -> None:
    bus, _ = attach(gap_wait_s=2.0)
    late = pg_db.engine.connect()
    transaction = late.begin()
    late.execute(text("INSERT INTO event_log (topic, data, at, origin) "
                      "VALUES ('test.late', '{}', now(), 'elsewhere')"))  # id 1, not committed, no lock
    bus.publish("test.early", {})  # id 2, committed
    time.sleep(0.3)
    assert bus.last_seq == 0  # the hole at 1 is waited for
    transaction.commit()
    late.close()
    wait_for(lambda: bus.last_seq == 2)
    assert [e.topic for e in bus.since(0) or []] == ["test.late", "test.early"]


def test_a_hole_that_never_fills_is_passed_after_the_wait(pg_db: Database, attach: Any) -> None:
    bus, channel = attach(gap_wait_s=0.3)
    with pg_db.engine.connect() as connection:
        connection.execute(text("SELECT nextval('event_log_id_seq')"))  # id 1 drawn, never written
    bus.publish("test.after", {})
    wait_for(lambda: bus.last_seq == 2)
    assert channel.stats()["skipped"] == 1


def test_events_published_at_once_from_threads_of_two_processes_arrive_in_one_order(attach: Any) -> None:
    first, _ = attach()
    second, _ = attach()
    buses = [first, second]
    threads = [threading.Thread(target=lambda b=bus: [b.publish("test.n", {}) for _ in range(300)])
               for bus in buses for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wait_for(lambda: first.last_seq == second.last_seq == 1200, timeout_s=20)
    assert [e.seq for e in first.since(0) or []] == list(range(1, 1201)) == [e.seq for e in second.since(0) or []]


def test_trim_keeps_the_newest_and_the_recent(pg_db: Database) -> None:
    log = EventLog(pg_db.engine)
    log.open(0)
    old = datetime.now(UTC) - timedelta(days=2)
    log.append([Event("test.old", {}, at=old)] + [Event("test.n", {"n": n}) for n in range(5)])
    assert log.trim(keep=3, before=datetime.now(UTC) - timedelta(days=1)) == 3
    assert [e.data["n"] for e in log.after(0, 10)] == [2, 3, 4]


def test_the_channel_needs_postgresql(sqlite_db: Database) -> None:
    with pytest.raises(ConfigError, match="PostgreSQL"):
        attach_event_channel(EventBus(), sqlite_db)


def test_events_published_while_the_database_is_down_are_written_and_streamed_once_it_is_back(
        postgres: Any, attach: Any) -> None:
    first, channel = attach()
    second, _ = attach()
    postgres.stop()
    try:
        started = time.monotonic()
        for n in range(3):
            first.publish("test.n", {"n": n})
        assert time.monotonic() - started < 0.1  # publishing does not wait for the database
        time.sleep(0.5)  # the writer tries, fails and keeps them
        assert (channel.stats()["queued"], channel.stats()["written"]) == (3, 0)
    finally:
        postgres.start()
    wait_for(lambda: second.last_seq == 3, timeout_s=30)  # both threads reconnect (backoff at most 5 s)
    assert [e.data["n"] for e in second.since(0) or []] == [0, 1, 2]


def test_a_batch_the_database_refuses_is_dropped_and_the_next_ones_go_through(attach: Any) -> None:
    bus, channel = attach()
    bus.publish("x" * 200, {})  # longer than the topic column
    wait_for(lambda: channel.stats()["dropped"] == 1)
    bus.publish("test.after", {})
    wait_for(lambda: bus.last_seq > 0)
    assert [e.topic for e in bus.since(0) or []] == ["test.after"]
