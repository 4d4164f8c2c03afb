"""Prometheus metrics of one collector instance, in a registry it owns (not the global one).

Per-message counts cost nothing on the hot path: the pipeline keeps plain integers (``IngestStats``) and
a custom collector turns them into counters when Prometheus scrapes. Per-batch figures (store write
latency, batch sizes) are histograms observed once per batch. Served at ``GET /metrics`` by the API.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the collector reports at one scrape."""

    received: int
    accepted: int
    readings: int
    stored: int
    rejected: dict[str, int]
    backlog: dict[str, int]  # per spool consumer
    backlog_age_s: float
    spool_bytes: int
    connected: bool
    connects: int
    seq_gaps: int
    seq_missing: int
    seq_duplicates: int


class _Figures(Collector):
    def __init__(self, snapshot: Callable[[], Snapshot]) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        s = self._snapshot()
        yield _counter("facmon_collector_messages_received", "MQTT messages received", s.received)
        yield _counter("facmon_collector_messages_accepted", "messages accepted into the spool", s.accepted)
        yield _counter("facmon_collector_readings_spooled", "readings written to the spool", s.readings)
        yield _counter("facmon_collector_readings_stored", "readings written to the telemetry store", s.stored)
        rejected = CounterMetricFamily("facmon_collector_messages_rejected", "messages dead-lettered, by reason",
                                       labels=["reason"])
        for reason, count in sorted(s.rejected.items()):
            rejected.add_metric([reason], count)
        yield rejected
        backlog = GaugeMetricFamily("facmon_collector_spool_backlog_records",
                                    "durable spool records a consumer has not committed", labels=["consumer"])
        for consumer, count in sorted(s.backlog.items()):
            backlog.add_metric([consumer], count)
        yield backlog
        yield GaugeMetricFamily("facmon_collector_spool_backlog_age_seconds",
                                "age of the oldest uncommitted spool record", value=s.backlog_age_s)
        yield GaugeMetricFamily("facmon_collector_spool_bytes", "bytes held in spool segments", value=s.spool_bytes)
        yield GaugeMetricFamily("facmon_collector_broker_connected", "1 when connected to the MQTT broker",
                                value=1.0 if s.connected else 0.0)
        yield _counter("facmon_collector_broker_connects", "successful MQTT connections", s.connects)
        yield _counter("facmon_collector_sequence_gaps", "gaps in device sequence numbers", s.seq_gaps)
        yield _counter("facmon_collector_sequence_missing", "messages missing in sequence gaps", s.seq_missing)
        yield _counter("facmon_collector_sequence_duplicates", "repeated device sequence numbers", s.seq_duplicates)


def _counter(name: str, documentation: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, documentation, value=value)


class CollectorMetrics:
    """The registry of one collector: scrape-time figures plus the store writer's histograms."""

    def __init__(self, snapshot: Callable[[], Snapshot]) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(_Figures(snapshot))
        self.write_seconds = Histogram(
            "facmon_collector_store_write_seconds", "telemetry store write latency per batch",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry)
        self.batch_size = Histogram(
            "facmon_collector_store_batch_size", "readings per telemetry store write",
            buckets=(1, 10, 100, 500, 1000, 2500, 5000, 10000, 25000), registry=self.registry)
        self.commit_size = Histogram(
            "facmon_collector_commit_messages", "messages acknowledged per group commit (one fdatasync)",
            buckets=(1, 10, 50, 100, 250, 500, 1000, 2500, 5000), registry=self.registry)

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes."""
        return generate_latest(self.registry)


def sum_counts(stats: dict[str, Any], key: str) -> int:
    """Sum of a per-device count dict in ``stats`` (Decoder.stats()), 0 when absent."""
    value = stats.get(key, {})
    return sum(value.values()) if isinstance(value, dict) else 0
