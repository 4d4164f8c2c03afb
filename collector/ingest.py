"""The ingest pipeline: raw MQTT message -> decoded, validated reading -> telemetry store and rules.

``receive`` runs on the MQTT client's thread and only decodes and validates; a worker thread flushes
accepted readings in batches (by size or interval) to the store and then to the consumers (the rules),
and rejected messages to the dead-letter table. Nothing a device sends can raise past ``receive``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from collector.registry import AssetRegistry
from collector.validate import TimeLimits, validate
from core.clock import Clock
from core.domain import DEAD_LETTER_PAYLOAD_BYTES, DeadLetter, Reading
from core.errors import FacmonError, InvalidMessage, RejectReason
from core.events import EventBus
from core.wire import OFFLINE, ONLINE, STATUS, TELEMETRY, decode_reading, parse_topic
from storage.records import DeadLetterRepository
from storage.telemetry import TelemetryStore

log = logging.getLogger(__name__)

ReadingConsumer = Callable[[Sequence[Reading]], None]


@dataclass
class IngestStats:
    received: int = 0
    accepted: int = 0
    stored: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    status_messages: int = 0
    store_errors: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"received": self.received, "accepted": self.accepted, "stored": self.stored,
                "rejected": sum(self.rejected.values()), "rejected_by_reason": dict(self.rejected),
                "status_messages": self.status_messages, "store_errors": self.store_errors}


class Ingest:
    def __init__(self, registry: AssetRegistry, store: TelemetryStore, dead_letters: DeadLetterRepository,
                 consumers: Sequence[ReadingConsumer], clock: Clock, limits: TimeLimits,
                 max_payload_bytes: int, bus: EventBus | None = None) -> None:
        self._registry = registry
        self._store = store
        self._dead_letters = dead_letters
        self._consumers = list(consumers)
        self._clock = clock
        self._limits = limits
        self._max_payload_bytes = max_payload_bytes
        self._bus = bus
        self._lock = threading.Lock()
        self._readings: list[Reading] = []
        self._rejects: list[DeadLetter] = []
        self.stats = IngestStats()

    def receive(self, topic: str, payload: bytes) -> None:
        """Take one message from the broker; never raises."""
        received_at = self._clock.now()
        try:
            reading = self._accept(topic, payload, received_at)
        except InvalidMessage as error:
            letter = DeadLetter(0, received_at, topic, error.reason, error.detail,
                                bytes(payload[:DEAD_LETTER_PAYLOAD_BYTES]))
            with self._lock:
                self.stats.received += 1
                self.stats.rejected[error.reason] += 1
                self._rejects.append(letter)
            return
        with self._lock:
            self.stats.received += 1
            if reading is not None:
                self.stats.accepted += 1
                self._readings.append(reading)

    def pending(self) -> int:
        with self._lock:
            return len(self._readings) + len(self._rejects)

    def flush(self) -> int:
        """Store what was accepted, record what was rejected, then feed the consumers; returns readings stored."""
        with self._lock:
            readings, self._readings = self._readings, []
            rejects, self._rejects = self._rejects, []
        for letter in rejects:
            self._dead_letters.add(letter)
        if not readings:
            return 0
        try:
            self._store.write(readings)
        except FacmonError:
            # Keep the batch: it goes out with the next flush. (The durable spool of the collector
            # issue replaces this in-memory hold.)
            with self._lock:
                self._readings[:0] = readings
                self.stats.store_errors += 1
            log.warning("telemetry store write failed; %d readings held for retry", len(readings), exc_info=True)
            return 0
        with self._lock:
            self.stats.stored += len(readings)
        for consume in self._consumers:
            try:
                consume(readings)
            except Exception:  # one failing consumer must not stop ingest or starve the others
                log.exception("reading consumer %r failed on a batch of %d", consume, len(readings))
        return len(readings)

    def _accept(self, topic: str, payload: bytes, received_at: Any) -> Reading | None:
        address = parse_topic(topic)
        if len(payload) > self._max_payload_bytes:
            raise InvalidMessage(RejectReason.PAYLOAD_TOO_LARGE,
                                 f"{len(payload)} bytes exceeds the limit of {self._max_payload_bytes}")
        if address.channel == STATUS:
            self._device_status(address.asset_id, payload)
            return None
        if address.channel != TELEMETRY:
            raise InvalidMessage(RejectReason.UNSUPPORTED_FORMAT,
                                 f"channel {address.channel!r} is not ingested yet; send JSON on 'telemetry'")
        reading = decode_reading(address, payload)
        validate(reading, self._registry.find(reading.asset_id), received_at, self._limits)
        return reading

    def _device_status(self, asset_id: str, payload: bytes) -> None:
        status = payload.decode("utf-8", "replace").strip()
        if status not in (ONLINE, OFFLINE):
            raise InvalidMessage(RejectReason.BAD_SHAPE, f"status must be {ONLINE!r} or {OFFLINE!r}")
        with self._lock:
            self.stats.status_messages += 1
        if self._bus is not None:
            self._bus.publish("device.status", {"asset_id": asset_id, "status": status})


class FlushWorker:
    """Flushes an Ingest every ``interval_s`` (or sooner when ``batch_size`` readings wait), on a thread."""

    def __init__(self, ingest: Ingest, interval_s: float, batch_size: int) -> None:
        self._ingest = ingest
        self._interval_s = interval_s
        self._batch_size = batch_size
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="collector-flush", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop after a final flush, so that nothing accepted is left behind."""
        self._stop.set()
        self._thread.join()
        self._ingest.flush()

    def _run(self) -> None:
        next_flush = time.monotonic() + self._interval_s
        while not self._stop.is_set():
            if self._ingest.pending() >= self._batch_size or time.monotonic() >= next_flush:
                try:
                    self._ingest.flush()
                except Exception:
                    log.exception("flush failed")
                next_flush = time.monotonic() + self._interval_s
            self._stop.wait(min(0.01, self._interval_s))
