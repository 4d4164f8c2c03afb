"""The ingest pipeline (decode -> spool -> ack; spool -> store and rules) on the real embedded stores."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.ingest import RULES, STORE, Ingest, decode_record, encode_record
from collector.registry import AssetRegistry
from collector.reprocess import build_decoder
from collector.spool import Spool
from core.clock import ManualClock
from core.domain import Asset, AssetKind, Reading, Site
from core.errors import RejectReason, ServiceUnavailable
from core.events import Event, EventBus
from core.settings import CollectorSettings
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
        self.root = root
        self.acks: list[int] = []
        self.ingest = self.make_ingest(self.store)

    def make_ingest(self, store: SqliteTelemetryStore) -> Ingest:
        settings = CollectorSettings(max_payload_bytes=2048, late_limit_s=86400, future_limit_s=300,
                                     batch_size=100, flush_interval_s=0.01, commit_interval_ms=2, retry_max_s=0.05)
        decoder = build_decoder(AssetRegistry(self.db.assets.list), settings, self.clock)
        spool = Spool(self.root / "spool", [STORE, RULES], settings.spool_max_bytes)
        ingest = Ingest(decoder, spool, store, self.db.dead_letters, self.consume, self.clock, settings, self.bus)
        ingest.attach(self.acks.extend)
        ingest.connection_changed(True)
        ingest.start()
        return ingest

    def drain(self, ingest: Ingest | None = None) -> None:
        assert (ingest or self.ingest).wait_until_drained(10), "the pipeline did not drain"

    def consume(self, readings: Sequence[Reading]) -> None:
        self.consumed.extend(readings)

    def close(self) -> None:
        self.ingest.stop(drain_timeout_s=0.1)
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
    parts.ingest.receive(TOPIC, payload({"flow_m3h": 33.0}, NOW + timedelta(minutes=1)), mid=8, qos=1)
    parts.drain()
    stored = parts.store.query("p1", "flow_m3h", NOW, NOW + timedelta(hours=1))
    assert [value for _, value in stored] == [31.0, 33.0]
    assert [r.metrics.get("flow_m3h") for r in parts.consumed] == [31.0, 33.0]
    assert parts.ingest.stats.stored == 2
    assert parts.acks == [8]  # QoS 0 needs no acknowledgement


@given(asset=st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), min_size=1, max_size=20)
       .filter(lambda text: not re.search(r"\\(?=[,= ]|$)", text)),  # what line protocol cannot carry
       micros=st.integers(0, 4_000_000_000_000_000),
       metrics=st.dictionaries(st.sampled_from(["flow_m3h", "running", "power kW", "a=b,c"]),
                               st.booleans() | st.floats(allow_nan=False, allow_infinity=False), min_size=1),
       seq=st.none() | st.integers(0, 2**32))
def test_a_spool_record_keeps_what_the_store_keeps(asset: str, micros: int, metrics: dict[str, float | bool],
                                                   seq: int | None) -> None:
    """A record is the reading's line-protocol line: metrics exactly, time to the millisecond, no ``seq``."""
    at = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)
    back = decode_record(encode_record(Reading("s1", AssetKind.PUMP, asset, at, metrics, seq)))
    assert back == Reading("s1", AssetKind.PUMP, asset, at.replace(microsecond=at.microsecond // 1000 * 1000),
                           {name: value if isinstance(value, bool) else float(value)
                            for name, value in metrics.items()})


def test_readings_spooled_before_a_restart_are_stored_after_it(parts: Parts) -> None:
    parts.ingest.stop(drain_timeout_s=0)  # consumers stop at once
    parts.ingest = parts.make_ingest(parts.store)
    parts.ingest.receive(TOPIC, payload({"flow_m3h": 5.0}), mid=1, qos=1)
    parts.drain()
    assert [value for _, value in parts.store.query("p1", "flow_m3h", NOW, NOW + timedelta(hours=1))] == [5.0]


def test_bad_messages_become_dead_letters_and_good_ones_in_the_same_batch_survive(parts: Parts) -> None:
    bad = {
        "facmon/v1/s1/pump/p9/telemetry": payload({"flow_m3h": 1.0}),
        TOPIC: b"{broken",
        "facmon/v1/s1/pump/p1/lp": b"pump flow_m3h=",
        "not/a/facmon/topic": b"{}",
    }
    batch = [*bad.items(), (TOPIC, b"x" * 4096), (TOPIC, payload({"vibration_mm_s": 500.0})),
             (TOPIC, payload({"flow_m3h": 20.0}))]
    parts.ingest.receive_many([(topic, body, mid, 1) for mid, (topic, body) in enumerate(batch, start=1)])
    parts.drain()
    assert parts.acks == list(range(1, len(batch) + 1))  # dead letters too, once stored; in arrival order
    assert parts.db.dead_letters.counts() == {
        RejectReason.UNKNOWN_ASSET: 1, RejectReason.INVALID_JSON: 1, RejectReason.INVALID_LINE_PROTOCOL: 1,
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
    parts.drain()
    assert [e.data for e in events] == [{"asset_id": "p1", "status": "offline"}]
    assert parts.db.dead_letters.counts() == {RejectReason.BAD_SHAPE: 1}


def test_a_failed_store_write_is_retried_until_it_succeeds(parts: Parts) -> None:
    class FailingOnce(SqliteTelemetryStore):
        failures = 1

        def write(self, readings: Sequence[Reading]) -> None:
            if self.failures:
                self.failures -= 1
                raise ServiceUnavailable("store down")
            super().write(readings)

    parts.ingest.stop(drain_timeout_s=0)
    store = FailingOnce(parts.store.path)
    parts.ingest = parts.make_ingest(store)
    parts.ingest.receive(TOPIC, payload({"flow_m3h": 12.0}))
    parts.drain()
    assert parts.ingest.stats.store_errors == 1
    assert [value for _, value in store.query("p1", "flow_m3h", NOW, NOW + timedelta(hours=1))] == [12.0]
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
    parts.drain()
    after = parts.ingest.stats.as_dict()
    received = after["received"] - before["received"]
    accounted = sum(after[k] - before[k] for k in ("accepted", "rejected", "status_messages"))
    assert received == len(messages)
    assert accounted == received


def test_prometheus_exposition_counts_messages_by_outcome(parts: Parts) -> None:
    parts.ingest.receive(TOPIC, payload({"flow_m3h": 31.0}), mid=1, qos=1)
    parts.ingest.receive(TOPIC, b"{broken", mid=2, qos=1)
    parts.drain()
    text = parts.ingest.metrics.exposition().decode()
    assert "facmon_collector_messages_received_total 2.0" in text
    assert "facmon_collector_messages_accepted_total 1.0" in text
    assert 'facmon_collector_messages_rejected_total{reason="invalid_json"} 1.0' in text
    assert "facmon_collector_readings_stored_total 1.0" in text
    assert 'facmon_collector_spool_backlog_records{consumer="store"} 0.0' in text
    assert "facmon_collector_store_write_seconds_count 1.0" in text
    assert parts.acks == [1, 2]  # a dead letter is acknowledged once it is stored, like a reading


def test_collector_status_is_published_on_a_connection_change(parts: Parts) -> None:
    events: list[Event] = []
    parts.bus.subscribe(events.append, prefix="collector.status")
    parts.ingest.connection_changed(False)

    def said_disconnected() -> bool:
        return any(e.data["connected"] is False for e in events)

    deadline = datetime.now(UTC) + timedelta(seconds=5)
    while not said_disconnected() and datetime.now(UTC) < deadline:
        parts.ingest.wait_until_drained(0.05)
    assert said_disconnected()
    data = next(e.data for e in events if e.data["connected"] is False)
    assert set(data) == {"connected", "backlog", "lagging", "since"}
    assert data["lagging"] is False


def test_the_metrics_route_serves_the_collectors_exposition(parts: Parts) -> None:
    from types import SimpleNamespace

    from api.routes.metrics import get_metrics

    parts.ingest.receive(TOPIC, payload({"flow_m3h": 31.0}))
    parts.drain()
    response = get_metrics(SimpleNamespace(metrics=parts.ingest.metrics.exposition))  # type: ignore[arg-type]
    assert response.media_type is not None
    assert response.media_type.startswith("text/plain")
    assert b"facmon_collector_readings_stored_total 1.0" in response.body
