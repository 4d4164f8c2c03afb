"""The ingest pipeline on the real embedded store and records database."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.ingest import Ingest
from collector.registry import AssetRegistry
from collector.validate import TimeLimits
from core.clock import ManualClock
from core.domain import Asset, AssetKind, Reading, Site
from core.errors import RejectReason, ServiceUnavailable
from core.events import Event, EventBus
from storage.records import Database
from storage.sqlite_telemetry import SqliteTelemetryStore

NOW = datetime(2026, 1, 5, 17, 0, tzinfo=UTC)
TOPIC = "facmon/v1/s1/pump/p1/telemetry"


class Parts:
    def __init__(self, root: Path) -> None:
        self.db = Database(f"sqlite:///{root / 'records.sqlite3'}")
        self.db.upgrade()
        self.db.assets.upsert_site(Site("s1", "Site 1"))
        self.db.assets.upsert_asset(Asset("p1", "s1", AssetKind.PUMP, "Pump 1"))
        self.store = SqliteTelemetryStore(root / "telemetry.sqlite3")
        self.bus = EventBus()
        self.consumed: list[Reading] = []
        self.clock = ManualClock(NOW)
        self.ingest = self.make_ingest(self.store)

    def make_ingest(self, store: SqliteTelemetryStore) -> Ingest:
        return Ingest(AssetRegistry(self.db.assets.list), store, self.db.dead_letters, [self.consume], self.clock,
                      TimeLimits(late=timedelta(days=1), future=timedelta(minutes=5)), 2048, self.bus)

    def consume(self, readings: Sequence[Reading]) -> None:
        self.consumed.extend(readings)

    def close(self) -> None:
        self.store.close()
        self.db.dispose()


@pytest.fixture
def parts(tmp_path: Path) -> Iterator[Parts]:
    built = Parts(tmp_path)
    yield built
    built.close()


def payload(metrics: dict[str, object], at: datetime = NOW) -> bytes:
    # stdlib json writes what devices may send and orjson refuses: NaN, Infinity, huge integers.
    return json.dumps({"ts": at.isoformat(), "metrics": metrics}).encode()


def test_good_readings_are_stored_then_handed_to_the_rules(parts: Parts) -> None:
    parts.ingest.receive(TOPIC, payload({"flow_m3h": 31.0, "running": True}))
    parts.ingest.receive(TOPIC, payload({"flow_m3h": 33.0}, NOW + timedelta(minutes=1)))
    assert parts.ingest.flush() == 2
    stored = parts.store.query("p1", "flow_m3h", NOW, NOW + timedelta(hours=1))
    assert [value for _, value in stored] == [31.0, 33.0]
    assert [r.metrics.get("flow_m3h") for r in parts.consumed] == [31.0, 33.0]
    assert parts.ingest.stats.stored == 2


def test_bad_messages_become_dead_letters_and_good_ones_in_the_same_batch_survive(parts: Parts) -> None:
    bad = {
        "facmon/v1/s1/pump/p9/telemetry": payload({"flow_m3h": 1.0}),
        TOPIC: b"{broken",
        "facmon/v1/s1/pump/p1/lp": b"pump flow_m3h=3",
        "not/a/facmon/topic": b"{}",
    }
    for topic, body in bad.items():
        parts.ingest.receive(topic, body)
    parts.ingest.receive(TOPIC, b"x" * 4096)
    parts.ingest.receive(TOPIC, payload({"vibration_mm_s": 500.0}))
    parts.ingest.receive(TOPIC, payload({"flow_m3h": 20.0}))
    assert parts.ingest.flush() == 1
    assert parts.db.dead_letters.counts() == {
        RejectReason.UNKNOWN_ASSET: 1, RejectReason.INVALID_JSON: 1, RejectReason.UNSUPPORTED_FORMAT: 1,
        RejectReason.BAD_TOPIC: 1, RejectReason.PAYLOAD_TOO_LARGE: 1, RejectReason.OUT_OF_RANGE: 1,
    }
    [letter] = parts.db.dead_letters.list(reason=RejectReason.OUT_OF_RANGE)
    assert letter.topic == TOPIC
    assert b"500" in letter.payload
    assert "vibration_mm_s" in letter.detail
    assert [r.metrics for r in parts.consumed] == [{"flow_m3h": 20.0}]


def test_device_status_is_published_not_stored(parts: Parts) -> None:
    events: list[Event] = []
    parts.bus.subscribe(events.append, prefix="device.")
    parts.ingest.receive("facmon/v1/s1/pump/p1/status", b"offline")
    parts.ingest.receive("facmon/v1/s1/pump/p1/status", b"sleeping")
    parts.ingest.flush()
    assert [e.data for e in events] == [{"asset_id": "p1", "status": "offline"}]
    assert parts.db.dead_letters.counts() == {RejectReason.BAD_SHAPE: 1}


def test_a_failed_store_write_keeps_the_batch_for_the_next_flush(parts: Parts) -> None:
    class FailingOnce(SqliteTelemetryStore):
        failures = 1

        def write(self, readings: Sequence[Reading]) -> None:
            if self.failures:
                self.failures -= 1
                raise ServiceUnavailable("store down")
            super().write(readings)

    store = FailingOnce(parts.store.path)
    ingest = parts.make_ingest(store)
    ingest.receive(TOPIC, payload({"flow_m3h": 12.0}))
    assert ingest.flush() == 0
    assert parts.consumed == []
    assert ingest.flush() == 1
    assert [r.metrics for r in parts.consumed] == [{"flow_m3h": 12.0}]
    store.close()


topics = st.sampled_from([TOPIC, "facmon/v1/s1/pump/p1/status", "facmon/v1/s1/lighting/p1/telemetry", "x/y"])


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(st.tuples(topics, st.binary(max_size=64) | st.builds(payload, st.dictionaries(
    st.sampled_from(["flow_m3h", "running", "door_close_s", "vibration_mm_s"]),
    st.floats() | st.booleans() | st.integers(), min_size=1))), max_size=8))
def test_every_message_is_accounted_for(parts: Parts, messages: list[tuple[str, bytes]]) -> None:
    before = parts.ingest.stats.as_dict()
    for topic, body in messages:
        parts.ingest.receive(topic, body)  # never raises
    parts.ingest.flush()
    after = parts.ingest.stats.as_dict()
    received = after["received"] - before["received"]
    accounted = sum(after[k] - before[k] for k in ("accepted", "rejected", "status_messages"))
    assert received == len(messages)
    assert accounted == received
