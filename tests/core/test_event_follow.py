"""Following the event bus on an asyncio loop: live, resumed after an id, and the gaps it cannot fill."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator

from core.event_follow import Gap, Idle, follow
from core.events import Event, EventBus


async def take(stream: AsyncIterator[Event | Gap | Idle], count: int) -> list[Event | Gap | Idle]:
    return [await asyncio.wait_for(anext(stream), 2) for _ in range(count)]


def test_follower_gets_events_published_from_another_thread_in_order() -> None:
    async def scenario() -> list[int]:
        bus = EventBus()
        stream = follow(bus)
        first = asyncio.ensure_future(anext(stream))  # starts following, then waits
        await asyncio.sleep(0.01)
        publisher = threading.Thread(target=lambda: [bus.publish("x", {"n": n}) for n in range(200)])
        publisher.start()
        items = [await asyncio.wait_for(first, 2), *await take(stream, 199)]
        publisher.join()
        await stream.aclose()
        return [item.data["n"] for item in items if isinstance(item, Event)]

    assert asyncio.run(scenario()) == list(range(200))


def test_follower_resumes_after_the_last_id_it_saw() -> None:
    async def scenario() -> list[int]:
        bus = EventBus()
        seen = bus.publish("x", {"n": 0})
        for n in range(1, 4):
            bus.publish("x", {"n": n})
        stream = follow(bus, seen.id)
        items = await take(stream, 3)
        await stream.aclose()
        return [item.data["n"] for item in items if isinstance(item, Event)]

    assert asyncio.run(scenario()) == [1, 2, 3]


def test_an_id_older_than_the_ring_or_of_another_run_gives_a_gap_then_live_events() -> None:
    async def scenario(last_id: str, bus: EventBus) -> tuple[list[Event | Gap], str]:
        stream = follow(bus, last_id)
        gap = await take(stream, 1)
        bus.publish("x", {"n": "live"})
        items = gap + await take(stream, 1)
        await stream.aclose()
        return items, f"{bus.epoch}-{bus.last_seq - 1}"

    bus = EventBus(history=2)
    old = bus.publish("x", {"n": 0})
    for n in range(1, 4):
        bus.publish("x", {"n": n})
    for last_id, reason in ((old.id, "behind"), ("0badc0de-1", "unknown")):
        (gap, live), newest_before = asyncio.run(scenario(last_id, bus))
        assert gap == Gap(newest_before, reason)
        assert isinstance(live, Event)
        assert live.data == {"n": "live"}


def test_a_follower_that_falls_behind_the_ring_gets_a_gap_not_a_silent_loss() -> None:
    async def scenario() -> list[Event | Gap]:
        bus = EventBus(history=3)
        stream = follow(bus)
        first = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0.01)
        bus.publish("x", {"n": 0})
        items = [await asyncio.wait_for(first, 2)]
        for n in range(1, 6):  # five more before the follower reads again: two leave the ring
            bus.publish("x", {"n": n})
        items += await take(stream, 1)
        await stream.aclose()
        return items

    first, second = asyncio.run(scenario())
    assert isinstance(first, Event)
    assert isinstance(second, Gap)
    assert second.reason == "behind"


def test_closing_the_follower_unsubscribes_it() -> None:
    async def scenario() -> int:
        bus = EventBus()
        stream = follow(bus)
        waiting = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0.01)
        bus.publish("x", {})
        await waiting
        await stream.aclose()
        return len(bus._handlers)

    assert asyncio.run(scenario()) == 0


def test_a_quiet_bus_gives_idle_marks_for_keepalives() -> None:
    async def scenario() -> list[Event | Gap | Idle]:
        bus = EventBus()
        stream = follow(bus, idle_s=0.02)
        items = await take(stream, 2)
        bus.publish("x", {})
        items += await take(stream, 1)
        await stream.aclose()
        return items

    first, second, third = asyncio.run(scenario())
    assert (first, second) == (Idle(), Idle())
    assert isinstance(third, Event)
