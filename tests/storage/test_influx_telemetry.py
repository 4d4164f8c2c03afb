"""InfluxTelemetryStore against a real InfluxDB 1.x, plus its pure line-protocol and aggregation helpers."""

from __future__ import annotations

import secrets
import statistics
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain import AssetKind, Reading
from core.errors import FacmonError, ServiceUnavailable
from core.lineprotocol import escape_key, to_line
from storage.influx_telemetry import InfluxTelemetryStore, aggregate
from storage.telemetry import AGGREGATIONS, Aggregation, TelemetryStore
from tests.services import InfluxDB, free_port

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def pump(asset_id: str, at: datetime, site: str = "site-a", **metrics: float | bool) -> Reading:
    return Reading(site, AssetKind.PUMP, asset_id, at, dict(metrics))


@pytest.fixture
def store(influxdb: InfluxDB) -> Iterator[InfluxTelemetryStore]:
    database = f"t_{secrets.token_hex(6)}"
    telemetry = InfluxTelemetryStore(influxdb.url, database)
    try:
        yield telemetry
    finally:
        telemetry.close()
        httpx.post(f"{influxdb.url}/query", data={"q": f'DROP DATABASE "{database}"'}, timeout=10)


# -- pure helpers ----------------------------------------------------------------------------------------
def test_line_writes_numbers_as_floats_and_flags_as_booleans() -> None:
    line = to_line(pump("p 1", T0, site="s,1", door_reopenings=3, running=True, flow_m3h=1e20))
    assert line == ("pump,asset=p\\ 1,site=s\\,1 door_reopenings=3.0,flow_m3h=1e+20,running=true "
                    f"{int(T0.timestamp() * 1000)}")


def test_line_drops_non_finite_values_and_empty_readings() -> None:
    assert to_line(pump("p1", T0, flow_m3h=float("nan"))) is None
    assert to_line(pump("p1", T0, flow_m3h=float("inf"), running=False)) is not None


@pytest.mark.parametrize("bad", ["a\nb", "a\rb", "trailing\\"])
def test_unwritable_keys_are_refused(bad: str) -> None:
    with pytest.raises(FacmonError):
        escape_key(bad)


@given(st.lists(st.tuples(st.integers(-10**12, 10**12), st.floats(-1e6, 1e6)), max_size=50),
       st.integers(1, 10**7), st.sampled_from(AGGREGATIONS))
def test_aggregate_buckets_are_epoch_aligned_and_complete(points: list[tuple[int, float]], window_ms: int,
                                                         agg: Aggregation) -> None:
    result = aggregate(points, window_ms, agg)
    assert [start for start, _ in result] == sorted({t - t % window_ms for t, _ in points})
    if agg == "count":
        assert sum(value for _, value in result) == len(points)
    for start, value in result:
        members = [v for t, v in sorted(points) if start <= t < start + window_ms]
        expected = {"mean": statistics.fmean(members), "min": min(members),
                    "max": max(members), "last": members[-1], "sum": sum(members),
                    "count": len(members)}[agg]
        assert value == pytest.approx(expected)


# -- against InfluxDB ------------------------------------------------------------------------------------

@pytest.mark.integration
def test_store_satisfies_the_protocol(store: InfluxTelemetryStore) -> None:
    telemetry: TelemetryStore = store
    assert telemetry.latest() == {}


@pytest.mark.integration
def test_raw_query_returns_half_open_range_sorted_with_flags_as_numbers(store: InfluxTelemetryStore) -> None:
    store.write([pump("p1", T0 + i * MINUTE, flow_m3h=20.0 + i, running=i % 2 == 0) for i in (4, 0, 2, 1, 3)])
    flow = store.query("p1", "flow_m3h", T0 + MINUTE, T0 + 4 * MINUTE)
    assert flow == [(T0 + i * MINUTE, 20.0 + i) for i in (1, 2, 3)]
    running = store.query("p1", "running", T0, T0 + 10 * MINUTE)
    assert running == [(T0 + i * MINUTE, 1.0 if i % 2 == 0 else 0.0) for i in range(5)]
    assert store.query("p2", "flow_m3h", T0, T0 + 10 * MINUTE) == []


@pytest.mark.integration
def test_rewriting_a_point_overwrites_it(store: InfluxTelemetryStore) -> None:
    store.write([pump("p1", T0, flow_m3h=20.0)])
    store.write([pump("p1", T0, flow_m3h=21.0), pump("p1", T0, flow_m3h=22.0)])
    assert store.query("p1", "flow_m3h", T0, T0 + MINUTE) == [(T0, 22.0)]


@pytest.mark.integration
def test_integers_and_floats_share_one_field_without_type_conflict(store: InfluxTelemetryStore) -> None:
    store.write([pump("p1", T0, door_reopenings=3)])
    store.write([pump("p1", T0 + MINUTE, door_reopenings=3.5)])
    assert [v for _, v in store.query("p1", "door_reopenings", T0, T0 + 2 * MINUTE)] == [3.0, 3.5]


@pytest.mark.integration
@pytest.mark.parametrize("agg", AGGREGATIONS)
def test_window_aggregation_matches_the_pure_reference(store: InfluxTelemetryStore, agg: Aggregation) -> None:
    readings = [pump("p1", T0 + i * timedelta(seconds=25), flow_m3h=float(i * i % 7), running=i % 3 == 0)
                for i in range(20)]
    store.write(readings)
    since, until = T0 + timedelta(seconds=30), T0 + timedelta(minutes=7)  # since is not window-aligned
    for metric in ("flow_m3h", "running"):
        raw = [(int(at.timestamp() * 1000), value) for at, value in store.query("p1", metric, since, until)]
        expected = [(datetime.fromtimestamp(t / 1000, UTC), v) for t, v in aggregate(raw, 120_000, agg)]
        got = store.query("p1", metric, since, until, window=timedelta(minutes=2), agg=agg)
        assert [at for at, _ in got] == [at for at, _ in expected]
        assert [v for _, v in got] == pytest.approx([v for _, v in expected])
        assert got[0][0] == T0  # the first window starts before ``since``: windows align to the epoch


@pytest.mark.integration
def test_latest_holds_each_metrics_newest_value_and_the_newest_time(store: InfluxTelemetryStore) -> None:
    store.write([
        pump("p1", T0, flow_m3h=20.0, running=True, vibration_mm_s=1.0),
        pump("p1", T0 + MINUTE, flow_m3h=21.0, running=False),
        pump("p1", T0 + 2 * MINUTE, flow_m3h=22.0),
        pump("p2", T0, site="site-b", flow_m3h=30.0),
        Reading("site-a", AssetKind.LIGHTING, "l1", T0 + 5 * MINUTE, {"power_w": 400, "on": True}),
    ])
    latest = store.latest()
    assert set(latest) == {"p1", "p2", "l1"}
    assert latest["p1"] == pump("p1", T0 + 2 * MINUTE, flow_m3h=22.0, running=False, vibration_mm_s=1.0)
    assert latest["p2"].site_id == "site-b"
    assert latest["l1"].kind is AssetKind.LIGHTING
    assert latest["l1"].metrics == {"power_w": 400.0, "on": True}
    assert set(store.latest(["p2", "l1", "nope"])) == {"p2", "l1"}
    assert store.latest([]) == {}


@pytest.mark.integration
def test_odd_asset_and_site_ids_round_trip(store: InfluxTelemetryStore) -> None:
    odd = "p 1,x=y'z\"\\q é"
    store.write([pump(odd, T0, site="site a,b", flow_m3h=5.0)])
    assert store.query(odd, "flow_m3h", T0, T0 + MINUTE) == [(T0, 5.0)]
    assert store.latest([odd])[odd].site_id == "site a,b"


@pytest.mark.integration
def test_delete_before_counts_and_removes_old_values(store: InfluxTelemetryStore) -> None:
    store.write([pump("p1", T0 + i * MINUTE, flow_m3h=1.0, running=True) for i in range(10)])
    store.write([pump("p2", T0, flow_m3h=1.0)])
    assert store.delete_before(T0 + 4 * MINUTE) == 4 * 2 + 1
    remaining = store.query("p1", "flow_m3h", T0, T0 + 20 * MINUTE)
    assert [at for at, _ in remaining] == [T0 + i * MINUTE for i in range(4, 10)]
    assert set(store.latest()) == {"p1"}
    assert store.delete_before(T0 + 4 * MINUTE) == 0


@pytest.mark.integration
def test_bad_aggregation_and_window_are_refused(store: InfluxTelemetryStore) -> None:
    with pytest.raises(ValueError, match="aggregation"):
        store.query("p1", "flow_m3h", T0, T0 + MINUTE, window=MINUTE, agg="median")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="millisecond"):
        store.query("p1", "flow_m3h", T0, T0 + MINUTE, window=timedelta(microseconds=10))


@pytest.mark.integration
def test_refused_write_is_a_non_retryable_error(store: InfluxTelemetryStore) -> None:
    store.write([pump("p1", T0, running=True)])
    with pytest.raises(FacmonError) as caught:
        store.write([Reading("s", AssetKind.PUMP, "p1", T0 + MINUTE, {"running": 1.0})])  # bool field
    assert not caught.value.retryable
    assert not isinstance(caught.value, ServiceUnavailable)


def test_an_unreachable_server_opens_the_store_and_fails_its_writes_as_service_unavailable() -> None:
    store = InfluxTelemetryStore(f"http://127.0.0.1:{free_port()}", "facmon", timeout_s=1.0)  # facmon starts
    try:
        with pytest.raises(ServiceUnavailable) as caught:
            store.write([pump("p1", T0, flow_m3h=1.0)])
        assert caught.value.retryable
        with pytest.raises(ServiceUnavailable):
            store.ping()
    finally:
        store.close()


@pytest.mark.integration
def test_a_store_opened_while_influxdb_is_down_creates_its_database_when_it_answers(influxdb: InfluxDB) -> None:
    """Else the first write would meet "database not found" (404), a refusal that dead-letters the batch."""
    database = f"late_{secrets.token_hex(4)}"
    influxdb.stop()
    try:
        store = InfluxTelemetryStore(influxdb.url, database, timeout_s=1.0)
        with pytest.raises(ServiceUnavailable):
            store.ping()
    finally:
        influxdb.start()
    try:
        store.ping()
        store.write([pump("p1", T0, flow_m3h=1.0)])
        assert [v for _, v in store.query("p1", "flow_m3h", T0, T0 + MINUTE)] == [1.0]
    finally:
        store.close()


@pytest.mark.integration
def test_store_survives_a_server_restart(influxdb: InfluxDB, store: InfluxTelemetryStore) -> None:
    store.write([pump("p1", T0, flow_m3h=1.0)])
    influxdb.stop()
    try:
        with pytest.raises(ServiceUnavailable):
            store.write([pump("p1", T0 + MINUTE, flow_m3h=2.0)])
    finally:
        influxdb.start()
    store.write([pump("p1", T0 + MINUTE, flow_m3h=2.0)])
    assert [v for _, v in store.query("p1", "flow_m3h", T0, T0 + 2 * MINUTE)] == [1.0, 2.0]
