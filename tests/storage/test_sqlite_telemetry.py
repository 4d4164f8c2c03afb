"""The embedded telemetry store against a real SQLite file."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.domain import AssetKind, Reading
from core.settings import TelemetrySettings
from storage.sqlite_telemetry import SqliteTelemetryStore
from storage.telemetry import open_telemetry_store

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def pump(at: datetime, asset: str = "p1", **metrics: float | bool) -> Reading:
    return Reading("s1", AssetKind.PUMP, asset, at, dict(metrics))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteTelemetryStore]:
    opened = SqliteTelemetryStore(tmp_path / "telemetry.sqlite3")
    yield opened
    opened.close()


def test_raw_query_returns_points_in_half_open_range_sorted(store: SqliteTelemetryStore) -> None:
    store.write([pump(T0 + timedelta(minutes=m), vibration_mm_s=float(m)) for m in (3, 0, 2, 1, 4)])
    points = store.query("p1", "vibration_mm_s", T0 + timedelta(minutes=1), T0 + timedelta(minutes=4))
    assert points == [(T0 + timedelta(minutes=m), float(m)) for m in (1, 2, 3)]
    assert all(at.tzinfo is not None for at, _ in points)


def test_query_filters_by_asset_and_metric(store: SqliteTelemetryStore) -> None:
    store.write([pump(T0, "p1", flow_m3h=10.0, discharge_bar=4.0), pump(T0, "p2", flow_m3h=20.0)])
    assert store.query("p2", "flow_m3h", T0, T0 + timedelta(seconds=1)) == [(T0, 20.0)]
    assert store.query("p2", "discharge_bar", T0, T0 + timedelta(seconds=1)) == []


def test_booleans_are_stored_as_zero_and_one(store: SqliteTelemetryStore) -> None:
    store.write([pump(T0, running=True), pump(T0 + timedelta(minutes=1), running=False)])
    assert [v for _, v in store.query("p1", "running", T0, T0 + timedelta(hours=1))] == [1.0, 0.0]


@pytest.mark.parametrize(("agg", "expected"), [
    ("mean", [1.5, 6.0]), ("min", [1.0, 5.0]), ("max", [2.0, 7.0]), ("sum", [3.0, 12.0]),
    ("count", [2.0, 2.0]), ("last", [2.0, 5.0]),
])
def test_windowed_aggregations_bucket_on_epoch_aligned_windows(store: SqliteTelemetryStore, agg: str,
                                                               expected: list[float]) -> None:
    # Window 0 (08:00-08:10): 1 at :01, 2 at :09. Window 1 (08:10-08:20): 7 at :12, 5 at :18 (last is 5).
    values = {1: 1.0, 9: 2.0, 12: 7.0, 18: 5.0}
    store.write([pump(T0 + timedelta(minutes=m), flow_m3h=v) for m, v in values.items()])
    result = store.query("p1", "flow_m3h", T0, T0 + timedelta(hours=1), timedelta(minutes=10), agg)  # type: ignore[arg-type]
    assert result == [(T0, expected[0]), (T0 + timedelta(minutes=10), expected[1])]


def test_window_start_is_aligned_to_epoch_not_to_since(store: SqliteTelemetryStore) -> None:
    store.write([pump(T0 + timedelta(minutes=7), flow_m3h=3.0)])
    result = store.query("p1", "flow_m3h", T0 + timedelta(minutes=5), T0 + timedelta(hours=1), timedelta(hours=1))
    assert result == [(T0, 3.0)]


def test_windows_before_1970_are_aligned_too(store: SqliteTelemetryStore) -> None:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    store.write([pump(epoch - timedelta(seconds=30), flow_m3h=2.0), pump(epoch + timedelta(seconds=5), flow_m3h=4.0)])
    result = store.query("p1", "flow_m3h", epoch - timedelta(hours=1), epoch + timedelta(hours=1),
                         timedelta(minutes=1), "max")
    assert result == [(epoch - timedelta(minutes=1), 2.0), (epoch, 4.0)]


def test_rewriting_a_point_overwrites_it(store: SqliteTelemetryStore) -> None:
    store.write([pump(T0, flow_m3h=10.0)])
    store.write([pump(T0, flow_m3h=10.0)])
    store.write([pump(T0, flow_m3h=12.5)])
    assert store.query("p1", "flow_m3h", T0, T0 + timedelta(seconds=1)) == [(T0, 12.5)]
    assert store.latest()["p1"].metrics["flow_m3h"] == 12.5


def test_latest_holds_newest_value_of_each_metric_and_types_flags(store: SqliteTelemetryStore) -> None:
    later = T0 + timedelta(minutes=5)
    store.write([pump(later, flow_m3h=30.0), pump(T0, flow_m3h=10.0, running=True)])
    store.write([pump(T0 - timedelta(minutes=1), flow_m3h=1.0)])  # an older point must not replace latest
    store.write([Reading("s2", AssetKind.LIGHTING, "l1", T0, {"on": False, "power_w": 3.0})])
    latest = store.latest()
    assert set(latest) == {"p1", "l1"}
    p1 = latest["p1"]
    assert (p1.site_id, p1.kind, p1.at) == ("s1", AssetKind.PUMP, later)
    assert p1.metrics == {"flow_m3h": 30.0, "running": True}
    assert p1.metrics["running"] is True
    assert latest["l1"].metrics["on"] is False
    assert set(store.latest(["l1", "nope"])) == {"l1"}
    assert store.latest([]) == {}


def test_delete_before_removes_old_points_and_counts_them(store: SqliteTelemetryStore) -> None:
    store.write([pump(T0 + timedelta(minutes=m), flow_m3h=1.0, running=True) for m in range(5)])
    assert store.delete_before(T0 + timedelta(minutes=2)) == 4
    assert [at for at, _ in store.query("p1", "flow_m3h", T0, T0 + timedelta(hours=1))] == [
        T0 + timedelta(minutes=m) for m in (2, 3, 4)]
    assert store.delete_before(T0 + timedelta(hours=1)) == 6
    assert store.latest() == {}


def test_naive_times_are_refused(store: SqliteTelemetryStore) -> None:
    with pytest.raises(ValueError, match="naive"):
        store.write([pump(datetime(2026, 1, 1), flow_m3h=1.0)])  # noqa: DTZ001


def test_data_survives_reopening_and_file_is_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "t.sqlite3"
    first = SqliteTelemetryStore(path)
    first.write([pump(T0, flow_m3h=5.0)])
    first.close()
    second = open_telemetry_store(TelemetrySettings(backend="sqlite", sqlite_path=path))
    try:
        assert second.query("p1", "flow_m3h", T0, T0 + timedelta(seconds=1)) == [(T0, 5.0)]
    finally:
        second.close()
    with sqlite3.connect(path) as check:  # WAL mode is persistent in the file
        assert check.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_concurrent_writers_lose_nothing(store: SqliteTelemetryStore) -> None:
    def write(asset: str) -> None:
        for m in range(50):
            store.write([pump(T0 + timedelta(minutes=m), asset, flow_m3h=float(m))])

    threads = [threading.Thread(target=write, args=(f"p{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for i in range(4):
        assert len(store.query(f"p{i}", "flow_m3h", T0, T0 + timedelta(days=1))) == 50


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(points=st.dictionaries(st.integers(-10_000_000, 10_000_000),
                              st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=40),
       window_s=st.integers(1, 3600))
def test_windowed_mean_equals_python_computation(store: SqliteTelemetryStore, points: dict[int, float],
                                                 window_s: int) -> None:
    store.delete_before(T0 + timedelta(days=3650))
    store.write([pump(T0 + timedelta(seconds=s), flow_m3h=v) for s, v in points.items()])
    window = timedelta(seconds=window_s)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    buckets: dict[datetime, list[float]] = {}
    for s, v in points.items():
        at = T0 + timedelta(seconds=s)
        buckets.setdefault(epoch + (at - epoch) // window * window, []).append(v)
    expected = [(start, sum(vs) / len(vs)) for start, vs in sorted(buckets.items())]
    since, until = T0 - timedelta(days=200), T0 + timedelta(days=200)
    result = store.query("p1", "flow_m3h", since, until, window, "mean")
    assert [at for at, _ in result] == [at for at, _ in expected]
    for (_, got), (_, want) in zip(result, expected, strict=True):
        assert got == pytest.approx(want, rel=1e-9, abs=1e-6)
