"""Clocks and the in-process event bus."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from core.clock import AcceleratedClock, ManualClock
from core.events import Event, EventBus

START = datetime(2026, 1, 5, 17, 0, tzinfo=UTC)


def test_accelerated_clock_runs_faster_than_the_wall() -> None:
    clock = AcceleratedClock(START, speed=1000)
    assert clock.wall_seconds(3600) == pytest.approx(3.6)
    first = clock.now()
    threading.Event().wait(0.05)
    elapsed = (clock.now() - first).total_seconds()
    assert 40 <= elapsed <= 1000  # 50 ms of wall time is ~50 s simulated; generous for a busy machine


def test_accelerated_clock_refuses_naive_start() -> None:
    with pytest.raises(ValueError, match="timezone"):
        AcceleratedClock(datetime(2026, 1, 1), speed=2)  # noqa: DTZ001 - the point of the test


def test_manual_clock_moves_only_when_told() -> None:
    clock = ManualClock(START)
    assert clock.now() == START
    clock.advance(timedelta(minutes=5))
    assert clock.now() == START + timedelta(minutes=5)


def test_bus_delivers_by_prefix_and_survives_a_failing_handler() -> None:
    bus = EventBus()
    seen: list[str] = []

    def broken(_event: Event) -> None:
        raise RuntimeError("boom")

    bus.subscribe(broken)
    unsubscribe = bus.subscribe(lambda e: seen.append(e.topic), prefix="alarm.")
    bus.publish("alarm.raised", {"id": 1})
    bus.publish("workorder.opened", {"id": 2})
    unsubscribe()
    bus.publish("alarm.changed", {"id": 1})
    assert seen == ["alarm.raised"]


def test_bus_numbers_events_in_publish_order_and_keeps_the_last_ones() -> None:
    bus = EventBus(history=3)
    ids = [bus.publish("x", {"n": n}).id for n in range(5)]
    assert ids == [f"{bus.epoch}-{seq}" for seq in range(1, 6)]
    assert [e.data["n"] for e in bus.since(2) or []] == [2, 3, 4]
    assert bus.since(5) == []
    assert bus.since(1) is None  # event 2 has left the ring
    assert bus.since(6) is None  # never given


def test_bus_ids_of_another_bus_are_not_its_own() -> None:
    bus, other = EventBus(), EventBus()
    event = other.publish("x", {})
    assert bus.parse_id(event.id) is None
    assert other.parse_id(event.id) == 1
    assert bus.parse_id("garbage") is None
    assert bus.parse_id(f"{bus.epoch}-x1") is None


def test_ids_stay_in_order_when_threads_publish_at_once() -> None:
    bus = EventBus(history=4000)
    threads = [threading.Thread(target=lambda: [bus.publish("x", {}) for _ in range(1000)]) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [e.seq for e in bus.since(0) or []] == list(range(1, 4001))
