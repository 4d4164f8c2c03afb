"""Clocks and the in-process event bus."""

from __future__ import annotations

import asyncio
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


def test_queue_subscriber_receives_from_another_thread_and_drops_oldest_when_full() -> None:
    async def scenario() -> list[int]:
        bus = EventBus()
        queue, unsubscribe = bus.subscribe_queue(asyncio.get_running_loop(), maxsize=2)
        publisher = threading.Thread(target=lambda: [bus.publish("x", {"n": n}) for n in range(3)])
        publisher.start()
        publisher.join()
        await asyncio.sleep(0.05)
        unsubscribe()
        return [queue.get_nowait().data["n"] for _ in range(queue.qsize())]

    assert asyncio.run(scenario()) == [1, 2]
