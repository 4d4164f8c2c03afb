"""A shared bus (``EventBus.share``): published events go to a sink, the ring is fed from the log in id order,
other processes' events reach the subscribers, and a follower still ends when the service stops."""

from __future__ import annotations

import asyncio

from core.event_follow import follow
from core.events import STOPPING, Event, EventBus

EPOCH = "g1"


def logged(seq: int, topic: str = "x", origin: str = "elsewhere") -> Event:
    return Event(topic, {"seq": seq}, seq=seq, epoch=EPOCH, origin=origin)


def shared_bus(history: int = 100, floor: int = 0, recent: list[Event] | None = None
               ) -> tuple[EventBus, list[Event]]:
    sent: list[Event] = []
    bus = EventBus(history)
    bus.share(sent.append, EPOCH, recent or [], floor)
    return bus, sent


def test_a_published_event_goes_to_the_sink_and_the_subscribers_but_the_ring_waits_for_the_log() -> None:
    bus, sent = shared_bus()
    heard: list[str] = []
    bus.subscribe(lambda e: heard.append(e.topic))
    event = bus.publish("alarm.raised", {"id": 1})
    assert sent == [event]
    assert heard == ["alarm.raised"]
    assert bus.since(0) == []
    bus.receive([Event("alarm.raised", {"id": 1}, seq=1, epoch=EPOCH, origin=bus.origin)])
    assert heard == ["alarm.raised"]  # its own event is not handed over twice
    assert [e.id for e in bus.since(0) or []] == ["g1-1"]


def test_local_topics_stay_out_of_the_log() -> None:
    bus, sent = shared_bus()
    heard: list[str] = []
    bus.subscribe(lambda e: heard.append(e.topic))
    for topic in ("collector.status", "device.status", STOPPING):
        bus.publish(topic, {})
    assert sent == []
    assert heard == ["collector.status", "device.status", STOPPING]
    assert bus.stopping


def test_other_processes_events_reach_the_subscribers_once_in_id_order_and_their_local_topics_never() -> None:
    bus, _ = shared_bus()
    heard: list[int] = []
    bus.subscribe(lambda e: heard.append(e.seq), "x")
    bus.receive([logged(2), logged(3), logged(4, "device.status")])
    bus.receive([logged(3), logged(5)])  # 3 again (a re-read): ignored
    assert heard == [2, 3, 5]


def test_the_ring_answers_across_holes_and_knows_what_it_no_longer_holds() -> None:
    bus, _ = shared_bus(history=3, floor=10, recent=[logged(11), logged(13)])
    assert [e.seq for e in bus.since(10) or []] == [11, 13]
    assert [e.seq for e in bus.since(12) or []] == [13]
    assert bus.since(9) is None  # before the log's first event here
    bus.receive([logged(14), logged(17)])
    assert bus.since(10) is None  # 11 left the ring
    assert [e.seq for e in bus.since(11) or []] == [13, 14, 17]
    assert bus.since(18) == []  # a little ahead: another replica gave it, this one has not read it yet
    assert bus.since(17 + 3 + 1) is None  # far ahead: never given
    assert bus.parse_id("g1-13") == 13


def test_a_follower_of_a_shared_bus_gets_the_logged_events_then_ends_when_the_service_stops() -> None:
    async def scenario() -> list[str]:
        bus, _ = shared_bus()
        stream = follow(bus, f"{EPOCH}-0")
        bus.receive([logged(1), logged(2)])
        items = [await asyncio.wait_for(anext(stream), 2) for _ in range(2)]
        bus.publish(STOPPING, {})
        items.append(await asyncio.wait_for(anext(stream), 2))
        return [item.topic if isinstance(item, Event) else type(item).__name__ for item in items]

    assert asyncio.run(scenario()) == ["x", "x", STOPPING]
