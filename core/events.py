"""An in-process event bus: parts publish what happened, the API streams it to consoles.

Publishing never blocks and never fails the publisher: a subscriber that raises is logged and kept.
Safe to publish from any thread. Every event gets an id (``<epoch>-<seq>``: the bus's random epoch and a
counter), and the bus keeps the last ``history`` events in a ring, in id order, so that a console that
lost its connection can ask for what it missed (``since``); ``core.event_follow`` streams from the ring
on an asyncio loop.

A bus can be *shared* (``share``): several processes publish into one log and each feeds its ring from it
(``storage.records.event_channel`` on PostgreSQL). Then the ids are the log's (one epoch and one sequence
for the whole deployment, with gaps), a published event reaches the local subscribers at once and the ring
when it comes back from the log (``receive``), and the other processes' events reach the subscribers too,
except the ``LOCAL_TOPICS``, which never leave their process.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger(__name__)

HISTORY = 10_000  # events kept for replay: minutes of a busy portfolio, about 10 MB


@dataclass(frozen=True, slots=True)
class Event:
    """``topic`` is dotted, e.g. ``alarm.raised``, ``workorder.changed``, ``forecast.updated``.

    ``seq`` and ``epoch`` are set by the bus that published it (0 and "" for an event made by hand, or one a
    shared bus has not yet had back from its log); ``origin`` names the publishing bus (its process)."""

    topic: str
    data: dict[str, Any]
    at: datetime = field(default_factory=lambda: datetime.now(UTC))
    seq: int = 0
    epoch: str = ""
    origin: str = ""

    @property
    def id(self) -> str:
        return f"{self.epoch}-{self.seq}"


Handler = Callable[[Event], None]
Sink = Callable[[Event], None]  # where a shared bus sends what it publishes (must not block)

# Published once when the service begins to stop, so long-lived listeners (console event streams) end
# cleanly instead of being cancelled by the HTTP server's shutdown.
STOPPING = "system.stopping"
# About this process only: a shared bus keeps them out of the log (another partition's collector is not ours).
LOCAL_TOPICS = frozenset({"collector.status", "device.status", STOPPING})


class EventBus:
    def __init__(self, history: int = HISTORY) -> None:
        if history < 1:
            raise ValueError("history must keep at least one event")
        self._handlers: list[tuple[str, Handler]] = []
        self._watchers: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        # A new epoch per bus (per process start), so an id from a previous run is never taken for one of
        # this run's: a client resuming across a restart is told to reload instead.
        self.epoch = secrets.token_hex(4)
        self.origin = f"{socket.gethostname()}-{os.getpid()}-{self.epoch}"
        self._seq = 0
        self._floor = 0  # the ring holds every event after this seq (older ones have left it)
        self._ring: deque[Event] = deque(maxlen=history)
        self._sink: Sink | None = None
        self.stopping = False  # STOPPING was published

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

    def watch(self, wake: Callable[[], None]) -> Callable[[], None]:
        """Call ``wake`` (no arguments, on the publishing thread) whenever the ring grows or the bus stops;
        returns an unwatch. What a follower of the ring waits on."""
        with self._lock:
            self._watchers.append(wake)

        def unwatch() -> None:
            with self._lock:
                if wake in self._watchers:
                    self._watchers.remove(wake)

        return unwatch

    def share(self, sink: Sink, epoch: str, history: Iterable[Event], floor: int) -> None:
        """Publish through a shared log from now on: ``sink`` takes each published event (except the local
        topics), ``epoch`` is the log's, ``history`` its newest events (oldest first, with their log ids) and
        ``floor`` the id after which ``history`` is complete. Call before anything is published."""
        with self._lock:
            self._sink, self.epoch = sink, epoch
            self._ring.clear()
            self._floor = self._seq = floor
            self._append(list(history))

    def publish(self, topic: str, data: dict[str, Any]) -> Event:
        """Record the event in the ring (taking the next id) and hand it to the subscribers. On a shared
        bus: send it to the log (the ring takes it, with its id, when it comes back) and hand it over."""
        with self._lock:
            if self._sink is None:
                self._seq += 1
                event = Event(topic, data, seq=self._seq, epoch=self.epoch, origin=self.origin)
                self._append([event])  # under the lock: the ring is in id order, whatever the threads
            else:
                event = Event(topic, data, origin=self.origin)
            self.stopping = self.stopping or topic == STOPPING
            handlers = [h for prefix, h in self._handlers if topic.startswith(prefix)]
            watchers = list(self._watchers) if self._sink is None or topic == STOPPING else []
            sink = self._sink
        if sink is not None and topic not in LOCAL_TOPICS:
            sink(event)
        self._hand_over(event, handlers)
        for wake in watchers:
            wake()
        return event

    def receive(self, events: list[Event]) -> None:
        """From the shared log, in id order: add to the ring what is newer than the ring's newest, and hand
        the other processes' events (not their local topics) to the subscribers."""
        with self._lock:
            fresh = [event for event in events if event.seq > self._seq]
            self._append(fresh)
            foreign = [(event, [h for prefix, h in self._handlers if event.topic.startswith(prefix)])
                       for event in fresh if event.origin != self.origin and event.topic not in LOCAL_TOPICS]
            watchers = list(self._watchers) if fresh else []
        for event, handlers in foreign:
            self._hand_over(event, handlers)
        for wake in watchers:
            wake()

    def _append(self, events: list[Event]) -> None:
        """Under the lock: add events (ids ascending, above the newest) to the ring."""
        for event in events:
            if len(self._ring) == self._ring.maxlen:
                self._floor = self._ring[0].seq
            self._ring.append(event)
            self._seq = event.seq

    @staticmethod
    def _hand_over(event: Event, handlers: list[Handler]) -> None:
        for handler in handlers:
            try:
                handler(event)
            except Exception:
                log.exception("event handler failed for %s", event.topic)

    @property
    def shared(self) -> bool:
        return self._sink is not None

    @property
    def last_seq(self) -> int:
        """The sequence number of the newest event (0 before the first)."""
        with self._lock:
            return self._seq

    def since(self, seq: int) -> list[Event] | None:
        """The events after ``seq`` of this bus, oldest first; None when some of them have already left
        the ring, or ``seq`` is one this bus never gave (the caller cannot be brought up to date). On a
        shared bus an id a little ahead of the ring is one this process has not had back from the log yet:
        nothing for now."""
        with self._lock:
            if seq < self._floor:
                return None
            if seq >= self._seq:
                ahead = seq == self._seq or (self._sink is not None and seq - self._seq <= (self._ring.maxlen or 0))
                return [] if ahead else None
            size = len(self._ring)
            start = bisect_right(self._ring, seq, key=lambda event: event.seq)
            return [self._ring[index] for index in range(start, size)]  # read from the right: O(missed)

    def parse_id(self, event_id: str) -> int | None:
        """The sequence number of an id this bus gave (``<epoch>-<seq>``), else None."""
        epoch, _, seq = event_id.strip().rpartition("-")
        if epoch != self.epoch or not seq.isdigit():
            return None
        return int(seq)
