"""Following the event bus from an asyncio loop: what was missed after a known id, then live, in id order.

A follower reads the bus's ring from its own cursor, so it never sees an event twice or out of order, and a
client that reconnects with the id of the last event it saw receives exactly what came after. When that
cannot be done (the id is from another run, or older than the ring keeps, or the follower fell that far
behind) it gets a ``Gap``: the client must reload what it shows, then carries on from the newest event.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

from core.events import STOPPING, Event, EventBus


@dataclass(frozen=True, slots=True)
class Gap:
    """Events were lost to this follower; it continues after ``last_id`` (the newest event's id)."""

    last_id: str
    reason: str  # "unknown": an id this bus never gave (another run); "behind": events left the ring


@dataclass(frozen=True, slots=True)
class Idle:
    """Nothing was published for ``idle_s``: a stream may send a keepalive."""


class _Wakeup:
    """Wakes the follower on its loop when the ring grows on any thread; coalesces bursts into one wake."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._future: asyncio.Future[None] = loop.create_future()

    def arm(self) -> asyncio.Future[None]:
        if self._future.done():
            self._future = self._loop.create_future()
        return self._future

    def _fire(self) -> None:
        if not self._future.done():
            self._future.set_result(None)

    def wake(self) -> None:
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._fire)


async def follow(bus: EventBus, last_event_id: str | None = None,
                 idle_s: float | None = None) -> AsyncIterator[Event | Gap | Idle]:
    """The bus's events after ``last_event_id`` (None: from now on), then each new one as it comes; an
    ``Idle`` after each ``idle_s`` without any (if given)."""
    wakeup = _Wakeup(asyncio.get_running_loop())
    unwatch = bus.watch(wakeup.wake)  # before reading the ring: nothing falls in between
    try:
        if last_event_id is None:
            cursor = bus.last_seq
        else:
            known = bus.parse_id(last_event_id)
            cursor = -1 if known is None else known  # -1: never replayable, so the first read is a Gap
        while True:
            waiter = wakeup.arm()  # armed before reading, so an event appended after the read wakes us
            events = bus.since(cursor)
            if events is None:
                reason = "unknown" if cursor == -1 else "behind"
                cursor = bus.last_seq
                yield Gap(f"{bus.epoch}-{cursor}", reason)
                continue
            for event in events:
                cursor = event.seq
                yield event
            if not events and bus.stopping:  # a shared bus keeps STOPPING out of its ring: say it here
                yield Event(STOPPING, {})
                return
            if not events:
                done, _ = await asyncio.wait({waiter}, timeout=idle_s)
                if not done:
                    yield Idle()
    finally:
        unwatch()
