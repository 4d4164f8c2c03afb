"""An in-process event bus: parts publish what happened, the API streams it to consoles.

Publishing never blocks and never fails the publisher: a subscriber that raises is logged and kept.
Safe to publish from any thread. Every event gets an id (``<epoch>-<seq>``: the bus's random epoch and a
counter), and the bus keeps the last ``history`` events in a ring, in id order, so that a console that
lost its connection can ask for what it missed (``since``); ``core.event_follow`` streams from the ring
on an asyncio loop.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger(__name__)

HISTORY = 10_000  # events kept for replay: minutes of a busy portfolio, about 10 MB


@dataclass(frozen=True, slots=True)
class Event:
    """``topic`` is dotted, e.g. ``alarm.raised``, ``workorder.changed``, ``forecast.updated``.

    ``seq`` and ``epoch`` are set by the bus that published it (0 and "" for an event made by hand)."""

    topic: str
    data: dict[str, Any]
    at: datetime = field(default_factory=lambda: datetime.now(UTC))
    seq: int = 0
    epoch: str = ""

    @property
    def id(self) -> str:
        return f"{self.epoch}-{self.seq}"


Handler = Callable[[Event], None]

# Published once when the service begins to stop, so long-lived listeners (console event streams) end
# cleanly instead of being cancelled by the HTTP server's shutdown.
STOPPING = "system.stopping"


class EventBus:
    def __init__(self, history: int = HISTORY) -> None:
        if history < 1:
            raise ValueError("history must keep at least one event")
        self._handlers: list[tuple[str, Handler]] = []
        self._lock = threading.Lock()
        # A new epoch per bus (per process start), so an id from a previous run is never taken for one of
        # this run's: a client resuming across a restart is told to reload instead.
        self.epoch = secrets.token_hex(4)
        self._seq = 0
        self._ring: deque[Event] = deque(maxlen=history)

    def subscribe(self, handler: Handler, prefix: str = "") -> Callable[[], None]:
        """Call ``handler`` for every event whose topic starts with ``prefix``; returns an unsubscribe."""
        entry = (prefix, handler)
        with self._lock:
            self._handlers.append(entry)

        def unsubscribe() -> None:
            with self._lock:
                if entry in self._handlers:
                    self._handlers.remove(entry)

        return unsubscribe

    def publish(self, topic: str, data: dict[str, Any]) -> Event:
        """Record the event in the ring (taking the next id) and hand it to the subscribers."""
        with self._lock:
            self._seq += 1
            event = Event(topic, data, seq=self._seq, epoch=self.epoch)
            self._ring.append(event)  # under the lock: the ring is in id order, whatever the threads
            handlers = [h for prefix, h in self._handlers if topic.startswith(prefix)]
        for handler in handlers:
            try:
                handler(event)
            except Exception:
                log.exception("event handler failed for %s", topic)
        return event

    @property
    def last_seq(self) -> int:
        """The sequence number of the newest event (0 before the first)."""
        with self._lock:
            return self._seq

    def since(self, seq: int) -> list[Event] | None:
        """The events after ``seq`` of this bus, oldest first; None when some of them have already left
        the ring, or ``seq`` is one this bus never gave (the caller cannot be brought up to date)."""
        with self._lock:
            if seq > self._seq or seq < 0:
                return None
            missed = self._seq - seq
            if missed > len(self._ring):
                return None
            size = len(self._ring)
            return [self._ring[index] for index in range(size - missed, size)]  # O(missed) from the right

    def parse_id(self, event_id: str) -> int | None:
        """The sequence number of an id this bus gave (``<epoch>-<seq>``), else None."""
        epoch, _, seq = event_id.strip().rpartition("-")
        if epoch != self.epoch or not seq.isdigit():
            return None
        return int(seq)
