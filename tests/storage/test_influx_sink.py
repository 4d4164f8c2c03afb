"""storage.influx_sink: split-on-malformed against the real InfluxDB 1.6.7; retries, gzip and the v2 write API
against a small local HTTP server that implements ``/write`` and ``/api/v2/write`` and records requests
(InfluxDB 1.6.7, the only one packaged here, has no ``/api/v2/write``)."""

from __future__ import annotations

import gzip
import secrets
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

from core.domain import AssetKind, Reading
from core.errors import FacmonError, ServiceUnavailable
from core.lineprotocol import to_line
from core.settings import TelemetrySettings
from storage.influx_sink import MAX_RETRY_AFTER_S, InfluxSink, PointsRejected, V1Transport, V2Transport
from storage.influx_telemetry import InfluxTelemetryStore
from storage.telemetry import open_telemetry_store
from tests.services import InfluxDB, free_port

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def readings(count: int, asset: str = "p1") -> list[Reading]:
    return [Reading("s1", AssetKind.PUMP, asset, T0 + timedelta(seconds=i), {"flow_m3h": float(i)})
            for i in range(count)]


class Recorder:
    """A fake InfluxDB write endpoint: answers from a script, records each request."""

    def __init__(self) -> None:
        self.requests: list[dict[str, object]] = []
        self.answers: list[tuple[int, dict[str, str]]] = []  # consumed first; then 204
        self.poison = "POISON"  # a batch holding this text is a 400 partial write
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # http.server's name
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                body = gzip.decompress(raw) if self.headers.get("Content-Encoding") == "gzip" else raw
                url = urlsplit(self.path)
                recorder.requests.append({"path": url.path, "query": parse_qs(url.query), "body": body.decode(),
                                          "headers": dict(self.headers)})
                status, headers = recorder.answers.pop(0) if recorder.answers else (204, {})
                message = b""
                if status == 204 and recorder.poison in body.decode():
                    status, message = 400, b'{"code":"invalid","message":"partial write: field type conflict",' \
                                           b'"error":"partial write: field type conflict"}'
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(message)))
                self.end_headers()
                self.wfile.write(message)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def lines(self) -> list[str]:
        return [line for request in self.requests for line in str(request["body"]).splitlines()]


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    fake = Recorder()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


# -- the 1.x path against the real InfluxDB 1.6.7 --------------------------------------------------------
@pytest.fixture
def store(influxdb: InfluxDB) -> Iterator[InfluxTelemetryStore]:
    database = f"t_{secrets.token_hex(6)}"
    telemetry = InfluxTelemetryStore(influxdb.url, database, batch_lines=64)
    yield telemetry
    telemetry.close()
    httpx.post(f"{influxdb.url}/query", data={"q": f'DROP DATABASE "{database}"'}, timeout=10)


@pytest.mark.integration
def test_a_malformed_point_is_split_out_and_the_rest_is_stored(store: InfluxTelemetryStore,
                                                                 influxdb: InfluxDB) -> None:
    # `running` exists as a float in the shard: a boolean `running` is a field type conflict (400 partial write).
    line = f"pump,asset=other,site=s1 running=1.0 {int(T0.timestamp() * 1000) - 1000}"
    httpx.post(f"{influxdb.url}/write", params={"db": store.database, "precision": "ms"},
               content=line.encode(), timeout=10).raise_for_status()
    batch = readings(150)
    bad = [Reading("s1", AssetKind.PUMP, "p1", batch[i].at, {**batch[i].metrics, "running": True})
           for i in (17, 100)]
    batch[17], batch[100] = bad
    result = store.write_points(batch)
    assert [reading for reading, _ in result.rejected] == bad
    assert all("conflict" in reason for _, reason in result.rejected)
    assert result.written == 148
    stored = store.query("p1", "flow_m3h", T0, T0 + timedelta(hours=1))
    assert [value for _, value in stored] == [float(i) for i in range(150) if i not in (17, 100)]
    with pytest.raises(PointsRejected) as caught:
        store.write(bad[:1])
    assert caught.value.rejected[0][0] == bad[0]


@pytest.mark.integration
def test_a_replayed_batch_overwrites_itself(store: InfluxTelemetryStore) -> None:
    store.write(readings(10))
    store.write(readings(10))
    assert len(store.query("p1", "flow_m3h", T0, T0 + timedelta(hours=1))) == 10


def test_an_unreachable_server_is_retried_then_reported_as_unavailable() -> None:
    sleeps = Sleeps()
    sink = InfluxSink(V1Transport(f"http://127.0.0.1:{free_port()}", "db"), max_attempts=3, sleep=sleeps)
    with pytest.raises(ServiceUnavailable):
        sink.write(readings(1))
    assert len(sleeps) == 2


# -- retries, gzip and Retry-After (both APIs), against the recorder --------------------------------------
def v1(recorder: Recorder, sleeps: Sleeps, **options: int) -> InfluxSink:
    return InfluxSink(V1Transport(recorder.url, "facmon"), sleep=sleeps, **options)  # type: ignore[arg-type]


def v2(recorder: Recorder, sleeps: Sleeps, **options: int) -> InfluxSink:
    return InfluxSink(V2Transport(recorder.url, "acme", "telemetry", "s3cret"), sleep=sleeps,
                      **options)  # type: ignore[arg-type]


def test_v1_writes_gzip_line_protocol_in_ms_batches(recorder: Recorder) -> None:
    sink = v1(recorder, Sleeps(), batch_lines=4)
    assert sink.write(readings(10)).written == 10
    assert [len(str(r["body"]).splitlines()) for r in recorder.requests] == [4, 4, 2]
    first = recorder.requests[0]
    assert first["path"] == "/write"
    assert first["query"] == {"db": ["facmon"], "precision": ["ms"]}
    assert first["headers"]["Content-Encoding"] == "gzip"  # type: ignore[index]
    assert recorder.lines() == [to_line(r) for r in readings(10)]


def test_v2_writes_through_influxdb_client_with_org_bucket_token_and_ms(recorder: Recorder) -> None:
    sink = v2(recorder, Sleeps())
    assert sink.write(readings(3)).written == 3
    (request,) = recorder.requests
    assert request["path"] == "/api/v2/write"
    assert request["query"] == {"org": ["acme"], "bucket": ["telemetry"], "precision": ["ms"]}
    assert request["headers"]["Authorization"] == "Token s3cret"  # type: ignore[index]
    assert request["headers"]["Content-Encoding"] == "gzip"  # type: ignore[index]
    assert recorder.lines() == [to_line(r) for r in readings(3)]
    sink.close()


@pytest.mark.parametrize("make", [v1, v2])
def test_429_and_5xx_are_retried_honouring_retry_after(recorder: Recorder, make) -> None:  # type: ignore[no-untyped-def]
    recorder.answers = [(429, {"Retry-After": "7"}), (503, {}), (204, {})]
    sleeps = Sleeps()
    assert make(recorder, sleeps, max_attempts=5).write(readings(2)).written == 2
    assert len(recorder.requests) == 3
    assert sleeps[0] >= 7
    assert len(sleeps) == 2


@pytest.mark.parametrize("make", [v1, v2])
def test_giving_up_raises_service_unavailable_with_the_retry_hint(recorder: Recorder, make) -> None:  # type: ignore[no-untyped-def]
    recorder.answers = [(503, {"Retry-After": "3"})] * 3
    with pytest.raises(ServiceUnavailable) as caught:
        make(recorder, Sleeps(), max_attempts=3).write(readings(1))
    assert caught.value.retry_after_s == 3.0
    assert len(recorder.requests) == 3


@pytest.mark.parametrize("make", [v1, v2])
def test_a_partial_write_is_bisected_to_the_bad_points(recorder: Recorder, make) -> None:  # type: ignore[no-untyped-def]
    batch = readings(40)
    batch[9] = Reading("s1", AssetKind.PUMP, "POISON", batch[9].at, batch[9].metrics)
    result = make(recorder, Sleeps()).write(batch)
    assert [reading for reading, _ in result.rejected] == [batch[9]]
    assert "partial write" in result.rejected[0][1]
    assert result.written == 39
    assert len(recorder.requests) <= 2 * 6 + 1  # a bisection: O(log n) requests per bad point


@pytest.mark.parametrize("make", [v1, v2])
def test_an_authorisation_error_is_not_retried(recorder: Recorder, make) -> None:  # type: ignore[no-untyped-def]
    recorder.answers = [(401, {})]
    with pytest.raises(FacmonError) as caught:
        make(recorder, Sleeps()).write(readings(1))
    assert not isinstance(caught.value, ServiceUnavailable)
    assert len(recorder.requests) == 1


BACKOFF = InfluxSink(V1Transport("http://127.0.0.1:9", "db"), backoff_s=0.5, max_backoff_s=30)


@given(st.integers(1, 30), st.none() | st.floats(0, 10_000))
def test_backoff_is_capped_jittered_and_never_below_retry_after(attempt: int, retry_after: float | None) -> None:
    delay = BACKOFF.delay_s(attempt, retry_after)
    assert 0 <= delay <= max(30, min(retry_after or 0, MAX_RETRY_AFTER_S))
    if retry_after is not None:
        assert delay >= min(retry_after, MAX_RETRY_AFTER_S)


def test_the_configured_store_writes_through_the_v2_api(recorder: Recorder) -> None:
    settings = TelemetrySettings(backend="influxdb", influx_url=recorder.url, influx_api="v2", influx_org="acme",
                                 influx_bucket="plant", influx_token=SecretStr("t0k"), influx_batch_size=2)
    store = open_telemetry_store(settings)
    try:
        store.write(readings(3))
    finally:
        store.close()
    assert [r["path"] for r in recorder.requests] == ["/api/v2/write"] * 2  # no CREATE DATABASE on v2
    assert recorder.requests[0]["query"]["bucket"] == ["plant"]  # type: ignore[index]
    assert recorder.requests[0]["headers"]["Authorization"] == "Token t0k"  # type: ignore[index]
    assert recorder.lines() == [to_line(r) for r in readings(3)]
