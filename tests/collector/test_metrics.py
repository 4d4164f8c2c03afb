"""collector.metrics: the Prometheus exposition, read back with prometheus_client's own text parser."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from collector.decode import Decoder
from collector.ingest import STORE, Ingest
from collector.metrics import CollectorMetrics, Snapshot, counts_by_asset
from collector.spool import Spool
from collector.validate import TimeLimits
from core.clock import ManualClock
from core.domain import Asset, AssetKind
from core.settings import CollectorSettings
from storage.records import Database
from storage.sqlite_telemetry import SqliteTelemetryStore

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
SEQ_FAMILIES = ("facmon_collector_sequence_gaps", "facmon_collector_sequence_missing",
                "facmon_collector_sequence_duplicates")
PUMPS = {f"p{i}": Asset(f"p{i}", "s1", AssetKind.PUMP, f"Pump {i}") for i in (1, 2, 3)}


class Registry:
    def find(self, asset_id: str) -> Asset | None:
        return PUMPS.get(asset_id)


def decoder(clock: ManualClock) -> Decoder:
    return Decoder(Registry(), TimeLimits(late=timedelta(days=1), future=timedelta(minutes=5)), 4096, clock)


SNAPSHOT = Snapshot(
    received=10, accepted=7, readings=9, stored=5, rejected={"invalid_json": 2, "unknown_asset": 1},
    backlog={"store": 4, "rules": 0}, backlog_age_s=1.5, spool_bytes=4096, connected=True, connects=2,
    seq_gaps={"p1": 3, "p2": 1}, seq_missing={"p1": 7, "p2": 2}, seq_duplicates={"p3": 1})


def snapshot(**overrides: Any) -> Snapshot:
    return replace(SNAPSHOT, **overrides)


def scrape(snap: Snapshot) -> dict[str, Any]:
    """The exposition as prometheus_client parses it: family name -> family."""
    text = CollectorMetrics(lambda: snap).exposition().decode()
    return {family.name: family for family in text_string_to_metric_families(text)}


def by_label(family: Any, label: str) -> dict[str, float]:
    """Value per label value of a counter family's ``_total`` samples."""
    samples = [s for s in family.samples if s.name == family.name + "_total"]
    assert len(samples) == len(family.samples), f"unexpected samples in {family.name}: {family.samples}"
    return {s.labels[label]: s.value for s in samples}


def test_sequence_counters_have_one_series_per_device_labelled_asset() -> None:
    families = scrape(snapshot())
    for name in SEQ_FAMILIES:
        assert families[name].type == "counter"
        assert all(set(s.labels) == {"asset"} for s in families[name].samples)
    assert by_label(families["facmon_collector_sequence_gaps"], "asset") == {"p1": 3.0, "p2": 1.0}
    assert by_label(families["facmon_collector_sequence_missing"], "asset") == {"p1": 7.0, "p2": 2.0}
    assert by_label(families["facmon_collector_sequence_duplicates"], "asset") == {"p3": 1.0}


def test_devices_without_a_count_have_no_series() -> None:
    families = scrape(snapshot(seq_gaps={"p1": 1, "p2": 0}, seq_missing={}, seq_duplicates={}))
    assert by_label(families["facmon_collector_sequence_gaps"], "asset") == {"p1": 1.0}
    # the family is still described (HELP/TYPE), with no series: nothing per quiet device
    assert families["facmon_collector_sequence_missing"].samples == []
    assert families["facmon_collector_sequence_duplicates"].samples == []


def test_the_other_figures_round_trip_through_the_parser() -> None:
    families = scrape(snapshot())

    def value(name: str, sample: str | None = None, **labels: str) -> float:
        wanted = sample or name
        return float(next(s.value for s in families[name].samples if s.name == wanted and s.labels == labels))

    assert value("facmon_collector_messages_received", "facmon_collector_messages_received_total") == 10.0
    assert value("facmon_collector_messages_accepted", "facmon_collector_messages_accepted_total") == 7.0
    assert value("facmon_collector_readings_spooled", "facmon_collector_readings_spooled_total") == 9.0
    assert value("facmon_collector_readings_stored", "facmon_collector_readings_stored_total") == 5.0
    assert by_label(families["facmon_collector_messages_rejected"], "reason") == {"invalid_json": 2.0,
                                                                                   "unknown_asset": 1.0}
    assert value("facmon_collector_spool_backlog_records", consumer="store") == 4.0
    assert value("facmon_collector_spool_backlog_records", consumer="rules") == 0.0
    assert value("facmon_collector_spool_backlog_age_seconds") == 1.5
    assert value("facmon_collector_spool_bytes") == 4096.0
    assert value("facmon_collector_broker_connected") == 1.0
    assert value("facmon_collector_broker_connects", "facmon_collector_broker_connects_total") == 2.0
    assert families["facmon_collector_store_write_seconds"].type == "histogram"


def send_sequences(decode: Decoder) -> None:
    """p1: a gap of 2 and a duplicate; p2: a gap of 1; p3: in order (no counts)."""
    for asset, seqs in {"p1": (1, 2, 2, 5), "p2": (10, 12), "p3": (1, 2, 3)}.items():
        for seq in seqs:
            body = json.dumps({"ts": NOW.isoformat(), "metrics": {"flow_m3h": 1.0}, "seq": seq}).encode()
            decode.decode(f"facmon/v1/s1/pump/{asset}/telemetry", body)


def test_the_decoders_per_device_counts_reach_the_exposition() -> None:
    decode = decoder(ManualClock(NOW))
    send_sequences(decode)
    seq = decode.stats()
    snap = snapshot(seq_gaps=counts_by_asset(seq, "seq_gaps"), seq_missing=counts_by_asset(seq, "seq_missing"),
                    seq_duplicates=counts_by_asset(seq, "seq_duplicates"))
    families = scrape(snap)
    assert by_label(families["facmon_collector_sequence_gaps"], "asset") == {"p1": 1.0, "p2": 1.0}
    assert by_label(families["facmon_collector_sequence_missing"], "asset") == {"p1": 2.0, "p2": 1.0}
    assert by_label(families["facmon_collector_sequence_duplicates"], "asset") == {"p1": 1.0}


def test_counts_by_asset_reads_only_per_device_counts() -> None:
    stats: dict[str, Any] = {"seq_gaps": {"a": 2, "b": 0, "c": 3}, "sparkplug_nodes": 4}
    assert counts_by_asset(stats, "seq_gaps") == {"a": 2, "b": 0, "c": 3}  # the exposition drops the zero
    assert counts_by_asset(stats, "seq_missing") == {}
    assert counts_by_asset(stats, "sparkplug_nodes") == {}  # not a per-device dict


def test_ingest_exposes_sequence_counts_per_device(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'records.sqlite3'}")
    db.upgrade()
    store = SqliteTelemetryStore(tmp_path / "telemetry.sqlite3")
    settings = CollectorSettings(late_limit_s=86400)
    clock = ManualClock(NOW)
    decode = decoder(clock)
    ingest = Ingest(decode, Spool(tmp_path / "spool", [STORE], settings.spool_max_bytes), store, db.dead_letters,
                    None, clock, settings)
    try:
        send_sequences(decode)
        families = {f.name: f for f in text_string_to_metric_families(ingest.metrics.exposition().decode())}
        assert by_label(families["facmon_collector_sequence_gaps"], "asset") == {"p1": 1.0, "p2": 1.0}
        assert by_label(families["facmon_collector_sequence_missing"], "asset") == {"p1": 2.0, "p2": 1.0}
        assert by_label(families["facmon_collector_sequence_duplicates"], "asset") == {"p1": 1.0}
    finally:
        ingest.spool.close()
        store.close()
        db.dispose()
