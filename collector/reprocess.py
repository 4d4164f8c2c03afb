"""Reprocessing dead letters after a fix (say, a newly registered asset): decode again, store, delete.

Used by ``POST /api/v1/deadletters/reprocess`` and ``facmon deadletters reprocess``. Each stored payload
runs through a fresh :class:`~collector.decode.Decoder` (the configured limits and today's registry), judged
against the time it was first received, oldest first. Accepted readings are written to the telemetry
store and only then are their letters deleted; a letter rejected again stays as it was.

Sparkplug messages are read on their own (``build_decoder(..., reprocessing=True)``): no birth needed, no
seq check, no rebirth request. A DBIRTH, or data carrying metric names, is reprocessable; data carrying
aliases only is if a DBIRTH of its device is reprocessed before it in the same run, else it stays
rejected (``sparkplug_unknown_alias``).

Limits: a payload cut at DEAD_LETTER_PAYLOAD_BYTES stays rejected; status messages are accepted (and their
letters deleted) but not re-announced; reprocessed readings go to the store, not to the rules (they are
late by definition; the rules judge event time as it comes).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from collector.decode import Decoder, Registry
from collector.validate import TimeLimits
from core.clock import Clock
from core.domain import DeadLetter, Reading
from core.errors import InvalidMessage
from core.settings import CollectorSettings
from storage.influx_sink import PointsRejected
from storage.records import DeadLetterRepository
from storage.telemetry import TelemetryStore


@dataclass(frozen=True, slots=True)
class ReprocessResult:
    reprocessed: int  # letters tried
    accepted: int  # letters now accepted (and deleted)
    still_rejected: int  # letters rejected again (kept)
    readings: int  # readings written to the telemetry store

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def build_decoder(registry: Registry, settings: CollectorSettings, clock: Clock, *,
                  reprocessing: bool = False) -> Decoder:
    """A Decoder with the collector's configured limits; ``reprocessing``: Sparkplug messages read on their own."""
    limits = TimeLimits(late=timedelta(seconds=settings.late_limit_s),
                        future=timedelta(seconds=settings.future_limit_s))
    return Decoder(registry, limits, settings.max_payload_bytes, clock, sparkplug_births_required=not reprocessing)


def select_letters(letters: DeadLetterRepository, reason: str | None = None, ids: Collection[int] | None = None,
                   limit: int = 1000) -> list[DeadLetter]:
    """Letters of ``reason`` (any if None) and among ``ids`` (any if None), oldest first, at most ``limit``."""
    wanted = set(ids) if ids is not None else None
    chosen = [letter for letter in letters.list(reason, limit=limit if wanted is None else 1_000_000)
              if wanted is None or letter.id in wanted]
    return sorted(chosen, key=lambda letter: letter.id)[:limit]


def reprocess(chosen: list[DeadLetter], decoder: Decoder, store: TelemetryStore,
              letters: DeadLetterRepository) -> ReprocessResult:
    """Decode ``chosen`` again; store what is accepted, then delete its letters. Store outages propagate.

    A letter whose reading the store refuses again (InfluxDB's PointsRejected) stays, counted as still rejected.
    """
    accepted: dict[int, Sequence[Reading]] = {}
    for letter in chosen:
        try:
            result = decoder.decode(letter.topic, letter.payload, received_at=letter.received_at)
        except InvalidMessage:
            continue
        accepted[letter.id] = result.readings
    readings = [reading for batch in accepted.values() for reading in batch]
    refused: set[int] = set()
    if readings:
        try:
            store.write(readings)  # first the store: an outage here deletes nothing
        except PointsRejected as error:
            refused = {id(reading) for reading, _ in error.rejected}
    done = [letter_id for letter_id, batch in accepted.items() if not any(id(r) in refused for r in batch)]
    letters.delete(done)
    return ReprocessResult(len(chosen), len(done), len(chosen) - len(done), len(readings) - len(refused))
