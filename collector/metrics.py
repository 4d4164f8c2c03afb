"""Prometheus metrics of one collector instance, in a registry it owns (not the global one).

Per-message counts cost nothing on the hot path: the pipeline keeps plain integers (``IngestStats``) and
a custom collector turns them into counters when Prometheus scrapes. Per-batch figures (store write
latency, batch sizes) are histograms observed once per batch. Served at ``GET /metrics`` by the API.

Sequence gaps, missing messages and duplicates are counters per device (label ``asset``). A fleet has
thousands of devices, so only devices with a non-zero count have a series (``SeqTracker.stats()`` leaves
the others out); the fleet total is ``sum()`` in PromQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from core.health import DependencyState

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
    # Per device (asset id -> count), devices with none left out; the fleet's total is sum() in PromQL.
    seq_gaps: Mapping[str, int]
    seq_missing: Mapping[str, int]
    seq_duplicates: Mapping[str, int]


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
        yield _per_asset("facmon_collector_sequence_gaps", "gaps in a device's sequence numbers",
                         s.seq_gaps)
        yield _per_asset("facmon_collector_sequence_missing", "messages missing in a device's sequence gaps",
                         s.seq_missing)
        yield _per_asset("facmon_collector_sequence_duplicates", "repeated sequence numbers of a device",
                         s.seq_duplicates)


def _counter(name: str, documentation: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, documentation, value=value)


def _per_asset(name: str, documentation: str, counts: Mapping[str, int]) -> CounterMetricFamily:
    """A counter with one series per device that has a non-zero count (label ``asset``)."""
    family = CounterMetricFamily(name, documentation, labels=["asset"])
    for asset, count in sorted(counts.items()):
        if count:
            family.add_metric([asset], count)
    return family


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


class DependencyFigures(Collector):
    """``facmon_dependency_up{name=...}``: 1 while a dependency answers its health probe, 0 while it does not
    (the last check of ``core.health.Dependencies``; names checked so far only)."""

    def __init__(self, states: Callable[[], Iterable[DependencyState]]) -> None:
        self._states = states

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily("facmon_dependency_up", "1 when the dependency answers (broker, "
                                   "telemetry store, records database)", labels=["name"])
        for state in self._states():
            family.add_metric([state.name], 1.0 if state.up else 0.0)
        yield family


def counts_by_asset(stats: dict[str, Any], key: str) -> dict[str, int]:
    """The per-device count dict ``key`` of ``stats`` (Decoder.stats()); {} when absent or not per device."""
    value = stats.get(key, {})
    return {str(asset): int(count) for asset, count in value.items()} if isinstance(value, dict) else {}
