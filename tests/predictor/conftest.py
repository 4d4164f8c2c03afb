"""Fixtures for the predictor tests: an in-memory TelemetryStore and records fake, and series builders."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from core.domain import Asset, Forecast, ModelRecord, Reading
from storage.telemetry import Aggregation

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_AGGREGATE: dict[str, Callable[[list[float]], float]] = {
    "mean": lambda values: sum(values) / len(values),
    "min": min,
    "max": max,
    "last": lambda values: values[-1],
    "sum": sum,
    "count": lambda values: float(len(values)),
}


class FakeTelemetryStore:
    """TelemetryStore in memory: raw points per (asset, metric), epoch-aligned windows."""

    def __init__(self) -> None:
        self.points: dict[tuple[str, str], dict[datetime, float]] = defaultdict(dict)
        self.queries: list[tuple[str, str, timedelta | None, str]] = []
        self.failing_assets: set[str] = set()

    def write(self, readings: Sequence[Reading]) -> None:
        for reading in readings:
            for metric, value in reading.metrics.items():
                self.points[(reading.asset_id, metric)][reading.at] = float(value)

    def query(self, asset_id: str, metric: str, since: datetime, until: datetime,
              window: timedelta | None = None, agg: Aggregation = "mean") -> list[tuple[datetime, float]]:
        if asset_id in self.failing_assets:
            raise RuntimeError(f"store broken for {asset_id}")
        self.queries.append((asset_id, metric, window, agg))
        raw = sorted((t, v) for t, v in self.points[(asset_id, metric)].items() if since <= t < until)
        if window is None:
            return raw
        buckets: dict[datetime, list[float]] = defaultdict(list)
        for t, v in raw:
            buckets[t - (t - EPOCH) % window].append(v)
        return [(start, _AGGREGATE[agg](values)) for start, values in sorted(buckets.items())]

    def latest(self, asset_ids: Collection[str] | None = None) -> dict[str, Reading]:
        raise NotImplementedError

    def delete_before(self, until: datetime) -> int:
        raise NotImplementedError

    def close(self) -> None:
        pass


@dataclass
class FakeAssets:
    assets: list[Asset] = field(default_factory=list)

    def list(self, site_id: str | None = None, kind: object = None) -> list[Asset]:
        return list(self.assets)


@dataclass
class FakeForecasts:
    stored: list[Forecast] = field(default_factory=list)

    def add(self, forecast: Forecast) -> None:
        self.stored.append(forecast)


@dataclass
class FakeModels:
    records: dict[str, ModelRecord] = field(default_factory=dict)

    def active(self, name: str) -> ModelRecord | None:
        return self.records.get(name)


@dataclass
class FakeDatabase:
    """The three repositories the predictor uses."""

    assets: FakeAssets = field(default_factory=FakeAssets)
    forecasts: FakeForecasts = field(default_factory=FakeForecasts)
    models: FakeModels = field(default_factory=FakeModels)


@pytest.fixture
def fake_store() -> FakeTelemetryStore:
    return FakeTelemetryStore()


@pytest.fixture
def fake_db() -> FakeDatabase:
    return FakeDatabase()

