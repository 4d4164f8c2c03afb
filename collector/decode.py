"""Decoding and validation of every device message: topic + payload -> readings, or a reject with a reason.

Formats, by topic:
- ``facmon/v1/{site}/{kind}/{asset}/telemetry``: the JSON wire format (core.wire), ``seq`` tracked per device.
- ``facmon/v1/{site}/{kind}/{asset}/lp``: InfluxDB line protocol (core.lineprotocol), ms timestamps or none
  (= receive time); one reading per line; one bad line rejects the whole message.
- ``facmon/v1/{site}/{kind}/{asset}/status``: ``online``/``offline``.
- ``spBv1.0/...``: Sparkplug B (core.sparkplug), through the stateful host session of collector/sparkplug.py.

``Decoder.decode`` returns a :class:`DecodeResult` or raises ``InvalidMessage`` (``reason`` is a stable
``RejectReason`` code): nothing else escapes it, whatever the bytes. A rejected Sparkplug message may still
ask for a rebirth: the raised error is then a ``SparkplugRejected`` whose ``reply`` lists what to publish.
Every accepted reading has passed ``collector.validate`` (registry, catalogue, time limits).
The Decoder keeps state (Sparkplug sessions, sequence trackers) behind one lock.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from collector.sequence import SeqTracker
from collector.sparkplug import Reply, SparkplugRejected, SparkplugSession, Status
from collector.validate import TimeLimits, validate
from core.clock import Clock
from core.domain import Asset, Reading
from core.errors import InvalidMessage, RejectReason
from core.lineprotocol import parse_lines
from core.sparkplug import NAMESPACE, MessageType, decode_payload, parse_spb_topic
from core.wire import LINE_PROTOCOL, OFFLINE, ONLINE, STATUS, TopicAddress, decode_reading, parse_topic

__all__ = ["DecodeResult", "Decoder", "Registry", "SparkplugRejected"]


class Registry(Protocol):
    def find(self, asset_id: str) -> Asset | None: ...


@dataclass
class DecodeResult:
    """What one accepted message means.

    ``status`` is the (asset_id, online/offline) change of a ``status`` message, a Sparkplug DBIRTH/DDEATH;
    a Sparkplug NDEATH takes several devices offline at once: ``statuses`` lists every change (``status``
    is its first). ``reply`` lists (topic, payload) to publish, e.g. a Sparkplug rebirth NCMD.
    """

    readings: Sequence[Reading] = ()
    status: tuple[str, str] | None = None
    reply: Sequence[Reply] = ()  # tuples by default: a telemetry message creates no empty lists
    statuses: Sequence[Status] = ()


class Decoder:
    def __init__(self, registry: Registry, limits: TimeLimits, max_payload_bytes: int, clock: Clock,
                 sparkplug_births_required: bool = True) -> None:
        self._registry = registry
        self._limits = limits
        self._max_payload_bytes = max_payload_bytes
        self._clock = clock
        self._lock = threading.Lock()
        self._sequences = SeqTracker()
        self._sparkplug = SparkplugSession(sparkplug_births_required)

    def decode(self, topic: str, payload: bytes, received_at: datetime | None = None) -> DecodeResult:
        """Decode and validate one message received at ``received_at`` (default: the clock's now)."""
        at = received_at if received_at is not None else self._clock.now()
        if len(payload) > self._max_payload_bytes:
            raise InvalidMessage(RejectReason.PAYLOAD_TOO_LARGE,
                                 f"{len(payload)} bytes exceeds the limit of {self._max_payload_bytes}")
        if topic.startswith(NAMESPACE + "/"):
            return self._sparkplug_message(topic, payload, at)
        address = parse_topic(topic)
        if address.channel == STATUS:
            return _status(address, payload)
        if address.channel == LINE_PROTOCOL:
            return DecodeResult(self._line_protocol(address, payload, at))
        return DecodeResult([self._json(address, payload, at)])

    def stats(self) -> dict[str, Any]:
        """Sequence gaps/duplicates per device (JSON ``seq``) and Sparkplug counters; JSON-safe."""
        with self._lock:
            return {**self._sequences.stats(), **self._sparkplug.stats()}

    # -- formats --------------------------------------------------------------------------------------
    def _json(self, address: TopicAddress, payload: bytes, at: datetime) -> Reading:
        reading = decode_reading(address, payload)
        self._validate(reading, at)
        if reading.seq is not None:
            with self._lock:
                self._sequences.observe(reading.asset_id, reading.seq)
        return reading

    def _line_protocol(self, address: TopicAddress, payload: bytes, at: datetime) -> list[Reading]:
        readings = parse_lines(_utf8(payload), address, "ms", default_at=at)
        for reading in readings:
            self._validate(reading, at)
        return readings

    def _sparkplug_message(self, topic: str, payload: bytes, at: datetime) -> DecodeResult:
        address = parse_spb_topic(topic)
        if address.message_type in (MessageType.STATE, MessageType.NCMD, MessageType.DCMD):
            return DecodeResult()  # host state (JSON) and commands: not telemetry, not ours to judge
        message = decode_payload(payload)
        asset = self._registry.find(address.device) if address.device else None
        with self._lock:
            outcome = self._sparkplug.handle(address, message, asset, at)
        try:
            for reading in outcome.readings:
                self._validate(reading, at)
        except InvalidMessage as error:
            if outcome.reply:
                raise SparkplugRejected(error.reason, error.detail, outcome.reply) from None
            raise
        return DecodeResult(outcome.readings, outcome.statuses[0] if outcome.statuses else None,
                            outcome.reply, outcome.statuses)

    def _validate(self, reading: Reading, at: datetime) -> None:
        validate(reading, self._registry.find(reading.asset_id), at, self._limits)


def _utf8(payload: bytes) -> str:
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidMessage(RejectReason.INVALID_UTF8, "payload is not valid UTF-8") from None


def _status(address: TopicAddress, payload: bytes) -> DecodeResult:
    status = _utf8(payload).strip()
    if status not in (ONLINE, OFFLINE):
        raise InvalidMessage(RejectReason.BAD_SHAPE, f"status must be {ONLINE!r} or {OFFLINE!r}")
    change = (address.asset_id, status)
    return DecodeResult(status=change, statuses=[change])
