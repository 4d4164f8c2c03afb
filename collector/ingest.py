"""The ingest pipeline: MQTT message -> Decoder -> durable spool -> acknowledgement; spool -> store and rules.

Threads (each named):
- the MQTT client's network thread calls ``receive_many`` with what one socket read brought: decode +
  validate each message (collector.decode.Decoder), encode each accepted reading as a spool record, queue
  the lot with the messages' (mid, qos) under one lock. Never raises.
- ``collector-commit`` (group commit): every ``commit_interval_ms`` it appends what was queued to the spool,
  fdatasyncs once, stores the window's dead letters, and only then acknowledges the window's messages to
  the broker, in order. A crash before the acknowledgement makes the broker redeliver; a crash after it
  finds the reading in the spool. It also publishes ``collector.status`` (on change and every
  ``status_interval_s``) and re-evaluates backpressure.
- ``collector-store``: reads the spool from its own offset in batches (``batch_size`` records, or what is
  there after ``flush_interval_s``), writes them to the telemetry store, and commits its offset only after
  the write succeeded; while the store is down it retries the same batch with capped, jittered backoff
  (``retry_max_s``), so the backlog waits on disk and drains when the store returns. Points the store
  refuses as malformed become dead letters (reason ``store_rejected``).
- ``collector-rules``: the same for ``RulesService.process``. It does not wait for the store writer, so
  alarms keep coming while InfluxDB is down; an exception in the rules is logged and the batch skipped
  (a poison batch must not stop alarms for good).
Backpressure: when the spool holds ``spool_max_bytes`` ``receive_many`` blocks the MQTT thread: nothing is read
from the socket, nothing acknowledged, nothing dropped; the broker keeps the messages.
A spool record is one validated Reading as its line of InfluxDB line protocol (core.lineprotocol.to_line:
ms timestamps; the device's ``seq`` is checked on receipt and not kept): encoded once, on receipt, so the
store writer hands records to InfluxDB as they are (``TelemetryStore.write_lines``); the rules consumer
reads them back with ``read_line``.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from collector.decode import Decoder
from collector.metrics import CollectorMetrics, Snapshot, counts_by_asset
from collector.mqtt import Message
from collector.spool import Batch, Spool
from core.clock import Clock
from core.domain import DEAD_LETTER_PAYLOAD_BYTES, DeadLetter, Reading
from core.errors import FacmonError, InvalidMessage
from core.events import EventBus
from core.lineprotocol import encode_reading, read_line
from core.settings import CollectorSettings
from core.wire import telemetry_topic
from storage.influx_sink import PointsRejected
from storage.records import DeadLetterRepository
from storage.telemetry import TelemetryStore

log = logging.getLogger(__name__)

ReadingConsumer = Callable[[Sequence[Reading]], None]
AcknowledgeMany = Callable[[list[int]], None]  # QoS 1 message ids, in order
Publish = Callable[[str, bytes], None]
STORE, RULES = "store", "rules"
STORE_REJECTED = "store_rejected"
STATUS_CHECK_S = 0.5


def encode_record(reading: Reading) -> bytes:
    """One spool record: the reading's line-protocol line (validated readings always have one)."""
    return encode_reading(reading).encode()


def decode_record(body: bytes) -> Reading:
    return read_line(body.decode())


def backoff_s(attempt: int, cap_s: float, rand: Callable[[], float] = random.random) -> float:
    """Retry delay: 0.1 s doubling per attempt, capped at ``cap_s``, jittered 0.5-1x."""
    delay: float = min(cap_s, 0.1 * 2.0 ** min(attempt, 20))
    return delay * (0.5 + 0.5 * rand())


@dataclass
class IngestStats:
    received: int = 0
    accepted: int = 0
    readings: int = 0  # readings spooled
    stored: int = 0
    processed: int = 0  # readings the rules consumer handled
    rejected: Counter[str] = field(default_factory=Counter)
    status_messages: int = 0
    store_errors: int = 0
    acknowledged: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"received": self.received, "accepted": self.accepted, "spooled": self.readings,
                "stored": self.stored, "processed_by_rules": self.processed,
                "rejected": sum(self.rejected.values()), "rejected_by_reason": dict(self.rejected),
                "status_messages": self.status_messages, "store_errors": self.store_errors,
                "acknowledged": self.acknowledged}


@dataclass
class _Window:
    """What arrived since the last group commit."""

    bodies: list[bytes] = field(default_factory=list)
    acks: list[tuple[int, int, int]] = field(default_factory=list)  # (generation, mid, qos)
    letters: list[DeadLetter] = field(default_factory=list)


class Ingest:
    def __init__(self, decoder: Decoder, spool: Spool, store: TelemetryStore, dead_letters: DeadLetterRepository,
                 rules: ReadingConsumer | None, clock: Clock, settings: CollectorSettings,
                 bus: EventBus | None = None) -> None:
        self.decoder = decoder
        self.spool = spool
        self._store = store
        self._dead_letters = dead_letters
        self._rules = rules
        self._clock = clock
        self._settings = settings
        self._bus = bus
        self._lock = threading.Lock()
        self._space = threading.Condition(self._lock)
        self._window = _Window()
        self._in_commit = 0  # messages of the window being committed right now
        self._full = spool.is_full()
        self._ack: AcknowledgeMany = lambda _mids: None
        self._publish: Publish | None = None
        self._generation = 0  # MQTT connection count: acks of an older connection are stale
        self._connected = False
        self._store_failing = False
        self._stopping = threading.Event()
        self._status: tuple[bool, bool] | None = None
        self._status_at = 0.0
        self._status_checked = 0.0
        self._status_since = clock.now()
        self._threads: list[threading.Thread] = []
        # The rules' checkpoint, if wired: their spool offset is committed only with it (``_rules_done``).
        self._rules_checkpoint: Callable[[], None] | None = None
        self._checkpoint_every_s = 0.0
        self._next_checkpoint = 0.0
        self._rules_kept: Batch | None = None  # evaluated, not yet covered by a checkpoint
        self.stats = IngestStats()
        self.metrics = CollectorMetrics(self.snapshot)

    # -- wiring -------------------------------------------------------------------------------------------
    def attach(self, ack: AcknowledgeMany, publish: Publish | None = None) -> None:
        """The MQTT side: how to acknowledge a message and publish replies."""
        self._ack = ack
        self._publish = publish

    def checkpoint_rules_with(self, checkpoint: Callable[[], None], every_s: float) -> None:
        """Save the rules' state with ``checkpoint`` at most every ``every_s`` (and at stop), committing their
        spool offset only after it: a successor restores the checkpoint and replays the readings after it,
        so timers started since are not lost (their effects are idempotent: no alarm twice)."""
        self._rules_checkpoint = checkpoint
        self._checkpoint_every_s = every_s

    def connection_changed(self, connected: bool) -> None:
        with self._lock:
            self._connected = connected
            if connected:
                self._generation += 1

    def start(self) -> None:
        loops = [("collector-commit", self._commit_loop), ("collector-store", self._store_loop)]
        if self._rules is not None:
            loops.append(("collector-rules", self._rules_loop))
        self._threads = [threading.Thread(target=run, name=name, daemon=True) for name, run in loops]
        for thread in self._threads:
            thread.start()

    def stop(self, drain_timeout_s: float = 5.0) -> None:
        """Commit what was received, let the consumers catch up (bounded), stop the threads, close the spool."""
        self.wait_until_drained(drain_timeout_s)
        self._stopping.set()
        with self._space:
            self._space.notify_all()
        for thread in self._threads:
            thread.join(timeout=max(5.0, self._settings.retry_max_s + 1))
        self._commit_window()
        if self._rules_checkpoint is not None:
            try:
                self._checkpoint_rules()
            except Exception:
                log.exception("could not save the rules checkpoint at stop; a successor replays from the last one")
        self.spool.close()

    # -- the MQTT thread ----------------------------------------------------------------------------------
    def receive(self, topic: str, payload: bytes, mid: int = 0, qos: int = 0) -> None:
        """Take one message from the broker (see ``receive_many``)."""
        self.receive_many([(topic, payload, mid, qos)])

    def receive_many(self, messages: Sequence[Message]) -> None:
        """Take messages from the broker, in arrival order (what one socket read brought); never raises.

        Each is decoded and validated, its readings encoded as spool records or its dead letter made; then
        the lot joins the commit window under one lock. Blocks while the spool is full (backpressure).
        """
        at = self._clock.now()  # one receive time per read: a read holds well under a second of traffic
        bodies: list[bytes] = []
        acks: list[tuple[int, int]] = []  # (mid, qos), in order
        letters: list[DeadLetter] = []
        stats = self.stats
        for topic, payload, mid, qos in messages:
            try:
                result = self.decoder.decode(topic, payload, at)
                records = [encode_record(reading) for reading in result.readings]
            except InvalidMessage as error:
                self._reply(getattr(error, "reply", ()))
                letters.append(DeadLetter(0, at, topic, error.reason, error.detail,
                                          bytes(payload[:DEAD_LETTER_PAYLOAD_BYTES])))
                stats.rejected[error.reason] += 1
                acks.append((mid, qos))
                continue
            except Exception:  # a bug must not kill the MQTT thread or the batch; this message stays unacknowledged
                log.exception("could not decode or encode a message on %r", topic)
                continue
            if result.reply:
                self._reply(result.reply)
            for asset_id, status in result.statuses:
                stats.status_messages += 1
                if self._bus is not None:
                    self._bus.publish("device.status", {"asset_id": asset_id, "status": status})
            bodies.extend(records)
            acks.append((mid, qos))
        with self._space:
            while bodies and self._full and not self._stopping.is_set():
                self._space.wait(0.1)
            generation = self._generation
            self._window.bodies.extend(bodies)
            self._window.letters.extend(letters)
            self._window.acks.extend([(generation, mid, qos) for mid, qos in acks])
        stats.received += len(acks)
        stats.accepted += len(acks) - len(letters)
        stats.readings += len(bodies)

    def _reply(self, replies: Sequence[tuple[str, bytes]]) -> None:
        if self._publish is None:
            return
        for topic, payload in replies:
            try:
                self._publish(topic, payload)
            except Exception:
                log.exception("could not publish a reply on %r", topic)

    # -- group commit -------------------------------------------------------------------------------------
    def _commit_loop(self) -> None:
        interval_s = self._settings.commit_interval_ms / 1000
        while not self._stopping.is_set():
            started = time.monotonic()
            try:
                self._commit_window()
                self._publish_status()
            except Exception:
                log.exception("group commit failed; retrying")
            self._stopping.wait(max(0.0, interval_s - (time.monotonic() - started)))

    def _commit_window(self) -> None:
        with self._lock:
            window, self._window = self._window, _Window()
            generation = self._generation
            self._in_commit = len(window.acks)
        if window.bodies:
            self.spool.append(window.bodies)
        if window.bodies or window.acks:
            self.spool.sync()
        try:
            for letter in window.letters:
                self._dead_letters.add(letter)
        except Exception:
            log.exception("could not store %d dead letters; their messages stay unacknowledged",
                          len(window.letters))
            self._in_commit = 0
            return  # the broker redelivers them after a reconnect
        # Acks of an older connection are stale: the broker redelivers those messages on the new one.
        mids = [mid for gen, mid, qos in window.acks if gen == generation and qos]
        self._in_commit = 0
        if mids:
            self._ack(mids)
        self.stats.acknowledged += len(mids)
        if window.acks:
            self.metrics.commit_size.observe(len(window.acks))
        full = self.spool.is_full()
        with self._space:
            self._full = full
            if not full:
                self._space.notify_all()

    # -- consumers ----------------------------------------------------------------------------------------
    def _store_loop(self) -> None:
        self._consume(STORE, self._write_store)

    def _rules_loop(self) -> None:
        self._consume(RULES, self._feed_rules)

    def _consume(self, consumer: str, handle: Callable[[list[bytes]], bool]) -> None:
        size, wait_s = self._settings.batch_size, self._settings.flush_interval_s
        waiting_since: float | None = None
        while not self._stopping.is_set():
            try:
                waiting_since = self._consume_once(consumer, handle, size, wait_s, waiting_since)
            except Exception:
                if self._stopping.is_set():
                    return  # stop() closed the spool under a consumer that was still retrying
                log.exception("spool consumer %r failed; retrying", consumer)
                self._stopping.wait(1.0)

    def _consume_once(self, consumer: str, handle: Callable[[list[bytes]], bool], size: int, wait_s: float,
                      waiting_since: float | None) -> float | None:
        """One step of a consumer: read, maybe wait for a fuller batch, handle, commit; returns the wait start."""
        batch = self.spool.read(consumer, size)
        if batch is None:
            if consumer == RULES:
                self._checkpoint_if_due()  # timers move on the clock too (absence rules)
            self._stopping.wait(min(0.02, wait_s))
            return None
        now = time.monotonic()
        waiting_since = waiting_since or now
        if len(batch.bodies) < size and now - waiting_since < wait_s:
            self._stopping.wait(min(0.01, wait_s))
            return waiting_since  # batch by size or by time, whichever first
        if handle(batch.bodies):
            if consumer == RULES and self._rules_checkpoint is not None:
                self.spool.advance(consumer, batch)
                self._rules_kept = batch
                self._checkpoint_if_due()
            else:
                self.spool.commit(consumer, batch)
        return None

    def _checkpoint_if_due(self) -> None:
        if self._rules_checkpoint is not None and time.monotonic() >= self._next_checkpoint:
            self._checkpoint_rules()

    def _checkpoint_rules(self) -> None:
        """Checkpoint the rules, then commit the readings it covers (a failure leaves them to replay)."""
        assert self._rules_checkpoint is not None
        self._next_checkpoint = time.monotonic() + self._checkpoint_every_s
        kept = self._rules_kept
        self._rules_checkpoint()
        if kept is not None:
            self.spool.commit(RULES, kept)
            if self._rules_kept is kept:
                self._rules_kept = None

    def _write_store(self, lines: list[bytes]) -> bool:
        """Write one batch; True once it is stored (or its refused points dead-lettered), False at stop."""
        attempt = 0
        while True:
            started = time.perf_counter()
            try:
                self._store.write_lines(lines)
            except PointsRejected as error:
                self._reject_points(error.rejected)
            except FacmonError as error:
                if not error.retryable:
                    log.error("telemetry store refused a batch of %d: %s; dead-lettering it", len(lines), error)
                    self._reject_points([(decode_record(line), str(error)) for line in lines])
                    return True
                self.stats.store_errors += 1
                self._store_failing = True
                delay = backoff_s(attempt, self._settings.retry_max_s)
                log.warning("telemetry store unavailable (%s); retrying a batch of %d in %.1f s",
                            error, len(lines), delay)
                attempt += 1
                if self._stopping.wait(delay):
                    return False
                continue
            self.metrics.write_seconds.observe(time.perf_counter() - started)
            self.metrics.batch_size.observe(len(lines))
            self._store_failing = False
            self.stats.stored += len(lines)
            return True

    def _reject_points(self, rejected: list[tuple[Reading, str]]) -> None:
        for reading, reason in rejected:
            topic = telemetry_topic(reading.site_id, reading.kind, reading.asset_id)
            self._dead_letters.add(DeadLetter(0, self._clock.now(), topic, STORE_REJECTED, reason[:500],
                                              encode_record(reading)[:DEAD_LETTER_PAYLOAD_BYTES]))
            self.stats.rejected[STORE_REJECTED] += 1

    def _feed_rules(self, bodies: list[bytes]) -> bool:
        assert self._rules is not None
        try:
            self._rules([decode_record(body) for body in bodies])
        except Exception:  # a poison batch must not stop the alarms for good
            log.exception("the rules failed on a batch of %d readings; skipped", len(bodies))
        self.stats.processed += len(bodies)
        return True

    # -- state --------------------------------------------------------------------------------------------
    def pending(self) -> int:
        """Messages received but not yet committed, plus spool records some consumer has not processed."""
        with self._lock:
            queued = len(self._window.acks) + self._in_commit
        return queued + self.spool.backlog()

    def wait_until_drained(self, timeout_s: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout_s
        while self.pending() and time.monotonic() < deadline:
            time.sleep(0.02)
        return not self.pending()

    def backlog_age_s(self) -> float:
        oldest = self.spool.oldest_ms()
        return 0.0 if oldest is None else max(0.0, time.time() - oldest / 1000)

    def snapshot(self) -> Snapshot:
        stats, seq = self.stats, self.decoder.stats()
        consumers = [STORE, RULES] if self._rules is not None else [STORE]
        return Snapshot(stats.received, stats.accepted, stats.readings, stats.stored, dict(stats.rejected),
                        {c: self.spool.backlog(c) for c in consumers}, self.backlog_age_s(),
                        self.spool.size_bytes(), self._connected, self._generation,
                        counts_by_asset(seq, "seq_gaps"), counts_by_asset(seq, "seq_missing"),
                        counts_by_asset(seq, "seq_duplicates"))

    def status(self) -> dict[str, Any]:
        """The ``collector.status`` event data."""
        lagging = self._store_failing or self.backlog_age_s() > self._settings.lag_threshold_s
        state = (self._connected, lagging)
        if state != self._status:
            self._status_since = self._clock.now()
        return {"connected": state[0], "backlog": self.spool.backlog(), "lagging": state[1],
                "since": self._status_since.isoformat()}

    def _publish_status(self) -> None:
        now = time.monotonic()
        unchanged = self._status is not None and self._status[0] == self._connected
        if unchanged and now - self._status_checked < STATUS_CHECK_S:
            return  # the backlog age costs a read: look every STATUS_CHECK_S, or at once when connectivity changed
        self._status_checked = now
        data = self.status()
        state = (data["connected"], data["lagging"])
        if state == self._status and now - self._status_at < self._settings.status_interval_s:
            return
        self._status, self._status_at = state, now
        if self._bus is not None:
            self._bus.publish("collector.status", data)
