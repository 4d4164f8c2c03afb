"""The shared event stream: a bus publishes into the event log and follows it (``events.channel =
"postgresql"``), so every API replica streams every process's events under one global id.

Two threads per process. The writer takes what the bus publishes (``send`` never blocks: a bounded queue,
the oldest dropped past ``QUEUE_MAX`` while the database is away) and appends it in batches with a NOTIFY.
The listener holds its own connection (psycopg) that LISTENs; on a notification, or every ``POLL_S``, it
reads the rows after the newest it has and hands them to the bus in id order (``EventBus.receive``: the
ring, and the subscribers for other processes' events). At a hole in the ids it waits ``GAP_WAIT_S`` for a
transaction still committing, then moves on (``take_in_order``). The log is trimmed to a day or 100,000
events, whichever is less, by every process now and then.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from sqlalchemy.exc import InterfaceError, OperationalError

from core.events import HISTORY, Event, EventBus
from storage.records.database import Database
from storage.records.event_log import CHANNEL, EventLog

log = logging.getLogger(__name__)

GAP_WAIT_S = 0.5  # how long a hole in the ids may be a transaction still committing
POLL_S = 1.0  # read the log this often even without a notification (a lost connection, a missed NOTIFY)
BATCH = 1000  # events per write and per read
QUEUE_MAX = 100_000  # events waiting for the database; beyond, the oldest are dropped (and counted)
KEEP = 100_000  # events kept in the log ...
KEEP_FOR = timedelta(days=1)  # ... and for at most this long
TRIM_S = 600.0  # how often each process trims the log
RETRY_MAX_S = 5.0  # the longest wait between two attempts to reach the database
CONNECT_TIMEOUT_S = 5  # the listener's connection attempt (so a stop is not held up by an unreachable host)


def take_in_order(events: list[Event], cursor: int, hole_since: float | None, now: float,
                  wait_s: float) -> tuple[list[Event], float | None]:
    """The events (ascending ids after ``cursor``) to hand over now: those that follow without a hole, and
    past a hole once it has been open ``wait_s`` (seen since ``hole_since``). Also when the hole the taking
    stopped at was first seen (None: no hole is pending)."""
    taken: list[Event] = []
    expected = cursor + 1
    for event in events:
        if event.seq != expected:
            if hole_since is None:
                hole_since = now
            if now - hole_since < wait_s:
                return taken, hole_since
        hole_since = None
        taken.append(event)
        expected = event.seq + 1
    return taken, None


class EventChannel:
    """Connects one bus to the event log (``attach_event_channel``); ``close`` at stop."""

    def __init__(self, log_: EventLog, conninfo: str, bus: EventBus, *, gap_wait_s: float = GAP_WAIT_S,
                 poll_s: float = POLL_S) -> None:
        self._log, self._conninfo, self._bus = log_, conninfo, bus
        self._gap_wait_s, self._poll_s = gap_wait_s, poll_s
        self._queue: deque[Event] = deque()
        self._ready = threading.Condition()
        self._stop = threading.Event()
        self._cursor = 0
        self._hole_since: float | None = None
        self._trimmed_at = time.monotonic()
        self.counts = dict.fromkeys(("sent", "written", "dropped", "received", "skipped"), 0)
        self._threads = [threading.Thread(target=self._write_loop, name="events-writer", daemon=True),
                         threading.Thread(target=self._listen_loop, name="events-listener", daemon=True)]

    def start(self, history: int = HISTORY) -> None:
        """Share the bus (its ring begins with the log's newest ``history`` events) and start both threads."""
        newest, recent = self._log.open(history)
        floor = recent[0].seq - 1 if recent else newest
        self._cursor = newest  # every id up to it is settled (read under the writers' lock)
        self._bus.share(self.send, self._log.epoch, recent, floor)
        for thread in self._threads:
            thread.start()

    def send(self, event: Event) -> None:
        """The bus's sink: queue ``event`` for the writer (never blocks)."""
        with self._ready:
            self._queue.append(event)
            self.counts["sent"] += 1
            if len(self._queue) > QUEUE_MAX:
                self._queue.popleft()
                self.counts["dropped"] += 1
            self._ready.notify()

    def close(self, timeout_s: float = 5.0) -> None:
        """Write what is queued (for up to ``timeout_s``), then stop both threads."""
        deadline = time.monotonic() + timeout_s
        with self._ready:
            while self._queue and time.monotonic() < deadline and self._threads[0].is_alive():
                self._ready.wait(0.05)
            self._stop.set()
            self._ready.notify_all()
        try:
            self._log.wake()  # the listener waits on its connection: a NOTIFY ends the wait
        except Exception:
            log.debug("event log: no wake-up at close", exc_info=True)
        for thread in self._threads:
            if thread.is_alive():
                thread.join(max(deadline - time.monotonic(), 0.1) + self._poll_s)
        if self._queue:
            log.warning("event log: %d events were not written before the stop", len(self._queue))

    def stats(self) -> dict[str, Any]:
        with self._ready:
            return {**self.counts, "queued": len(self._queue), "cursor": self._cursor}

    # --- the writer -----------------------------------------------------------------------------------

    def _write_loop(self) -> None:
        wait = 0.1
        while True:
            with self._ready:
                if not self._queue and not self._stop.is_set():
                    self._ready.wait(TRIM_S)
                if self._stop.is_set() and not self._queue:
                    return
                batch = [self._queue.popleft() for _ in range(min(BATCH, len(self._queue)))]
            if not batch:
                self._trim_when_due()
                continue
            try:
                self._log.append(batch)
            except (OperationalError, InterfaceError) as error:  # the database is away: keep it, retry
                with self._ready:
                    self._queue.extendleft(reversed(batch))
                log.warning("event log: cannot write %d events (%s); retrying in %.1f s", len(batch), error, wait)
                if self._stop.wait(wait):
                    return
                wait = min(wait * 2, RETRY_MAX_S)
                continue
            except Exception:  # a batch the database refuses (a value it cannot take): not retried forever
                log.exception("event log: %d events could not be written and are dropped", len(batch))
                with self._ready:
                    self.counts["dropped"] += len(batch)
                continue
            wait = 0.1
            with self._ready:
                self.counts["written"] += len(batch)
                self._ready.notify_all()  # close() waits for the queue to empty
            self._trim_when_due()

    def _trim_when_due(self) -> None:
        if time.monotonic() - self._trimmed_at < TRIM_S:
            return
        self._trimmed_at = time.monotonic()
        try:
            gone = self._log.trim(KEEP, datetime.now(UTC) - KEEP_FOR)
        except Exception:
            log.warning("event log: trimming failed", exc_info=True)
            return
        log.debug("event log: trimmed %d events", gone)

    # --- the listener ---------------------------------------------------------------------------------

    def _listen_loop(self) -> None:
        wait = 0.1
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    wait = 0.1
                    self._catch_up()  # what was written while no one listened
                    while not self._stop.is_set():
                        timeout = self._poll_s if self._hole_since is None else self._gap_wait_s / 4
                        for _ in connection.notifies(timeout=timeout, stop_after=1):
                            pass
                        self._catch_up()
            except Exception as error:
                log.warning("event log: listening failed (%s); again in %.1f s", error, wait)
                if self._stop.wait(wait):
                    return
                wait = min(wait * 2, RETRY_MAX_S)

    def _catch_up(self) -> None:
        """Hand the bus every event after the cursor that is ready, in id order."""
        while True:
            events = self._log.after(self._cursor, BATCH)
            taken, self._hole_since = take_in_order(events, self._cursor, self._hole_since, time.monotonic(),
                                                    self._gap_wait_s)
            if not taken:
                return
            skipped = taken[-1].seq - self._cursor - len(taken)
            if skipped:
                log.info("event log: moved past %d missing ids before %d", skipped, taken[-1].seq)
            self._cursor = taken[-1].seq
            self._bus.receive(taken)
            self.counts["received"] += len(taken)
            self.counts["skipped"] += skipped
            if len(events) < BATCH:
                return


def attach_event_channel(bus: EventBus, db: Database, **options: float) -> EventChannel:
    """Make ``bus`` publish into the records database's event log and stream from it; call before anything
    publishes (the runtime, with ``events.channel = "postgresql"``). ``options``: ``gap_wait_s``, ``poll_s``."""
    conninfo = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    channel = EventChannel(EventLog(db.engine), conninfo, bus, **options)
    channel.start()
    return channel
