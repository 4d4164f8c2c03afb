"""The InfluxDB telemetry store: writes through storage/influx_sink.py, queries over ``/query`` (InfluxQL).

Writes: the 1.x ``/write`` API or the v2 write API (``api``), in gzip batches, with retries, malformed
points split out (storage/influx_sink.py). Layout (core.lineprotocol writes the lines): one measurement
per asset kind, tags ``asset`` and ``site``, one field per metric, millisecond timestamps. A point is
keyed by (measurement, tags, time), so a rewrite overwrites. ``/query`` works on 1.x, 2.x (compatibility
API, with a DBRP mapping for the bucket) and 3.x alike."""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

import httpx

from core.domain import AssetKind, MetricValue, Reading
from core.errors import FacmonError, ServiceUnavailable
from storage.influx_sink import (
    BATCH_LINES,
    InfluxSink,
    PointsRejected,
    Transport,
    V1Transport,
    V2Transport,
    WriteResult,
)
from storage.sqlite_telemetry import from_ms, to_ms
from storage.telemetry import Aggregation, checked_window_ms

log = logging.getLogger(__name__)
_MS = timedelta(milliseconds=1)
_KINDS = ", ".join(f'"{kind.value}"' for kind in AssetKind)  # FROM clause: every measurement we write

Point = tuple[int, float]  # (epoch ms, value)


# -- InfluxQL text (pure); line protocol is core.lineprotocol -------------------------------------------
def quote_identifier(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def quote_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def time_range(since: datetime, until: datetime) -> str:
    return f"time >= {to_ms(since)}ms AND time < {to_ms(until)}ms"


def aggregate(points: Iterable[Point], window_ms: int, agg: Aggregation) -> list[Point]:
    """``agg`` of ``points`` per epoch-aligned window, stamped with the window start; empty windows omitted.

    InfluxDB cannot average booleans, so flags are aggregated here from their raw points.
    """
    buckets: dict[int, list[Point]] = {}
    for point in sorted(points):
        buckets.setdefault(point[0] - point[0] % window_ms, []).append(point)
    return [(start, _reduce([value for _, value in bucket], agg)) for start, bucket in sorted(buckets.items())]


def _reduce(values: list[float], agg: Aggregation) -> float:
    if agg == "mean":
        return sum(values) / len(values)
    if agg == "min":
        return min(values)
    if agg == "max":
        return max(values)
    if agg == "last":
        return values[-1]
    if agg == "sum":
        return float(sum(values))
    return float(len(values))


def as_float(value: Any) -> float:
    return 1.0 if value is True else 0.0 if value is False else float(value)


def as_metric(value: Any) -> MetricValue:
    return value if isinstance(value, bool) else float(value)


# -- the store ----------------------------------------------------------------------------------------
class InfluxTelemetryStore:
    """A :class:`~storage.telemetry.TelemetryStore` on InfluxDB; creates ``database`` if it is missing.

    Thread-safe: httpx's client is, and the only shared state is a cache of field types behind a lock.
    """

    def __init__(self, url: str, database: str, username: str | None = None, password: str | None = None,
                 timeout_s: float = 10.0, *, api: Literal["v1", "v2"] = "v1", org: str = "",
                 bucket: str | None = None, token: str | None = None, gzip_body: bool = True,
                 batch_lines: int = BATCH_LINES) -> None:
        self.url = url
        # v2: InfluxQL queries go to the 1.x-compatible /query of the bucket (a DBRP mapping on 2.x).
        self.database = bucket or database if api == "v2" else database
        auth = (username, password or "") if username is not None and api == "v1" else None
        headers = {"Authorization": f"Token {token}"} if api == "v2" and token else None
        self._http = httpx.Client(base_url=url, auth=auth, headers=headers, timeout=timeout_s)
        self._lock = threading.Lock()
        self._create_lock = threading.Lock()
        self._field_types: dict[str, str] = {}  # metric -> "float" | "boolean" (same in every measurement)
        transport: Transport
        # v1 creates the database (a no-op when it exists) before the first write; v2's bucket is the admin's.
        self._create: str | None = None
        if api == "v2":
            transport = V2Transport(url, org, self.database, token, gzip_body, timeout_s)
        else:
            transport = V1Transport(url, database, username, password, gzip_body, timeout_s)
            self._create = f"CREATE DATABASE {quote_identifier(database)}"
        self._sink = InfluxSink(transport, batch_lines)
        try:
            self._ensure_database()
        except ServiceUnavailable as error:  # facmon starts without its store: the writer retries (issue 13 §6)
            log.warning("%s; the database is created when it answers", error)

    def ping(self) -> None:
        """Return if InfluxDB answers (and holds our database); raises ServiceUnavailable if not."""
        if self._create is not None:
            self._ensure_database()
        self._request("/ping", {}, method="GET")

    def write(self, readings: Sequence[Reading]) -> None:
        """Store ``readings``; raises PointsRejected (after storing the rest) if InfluxDB refused some points."""
        self._ensure_database()
        _raise_rejected(self._sink.write(readings))

    def write_lines(self, lines: Sequence[bytes]) -> None:
        """Store lines as they are (line protocol at ms precision is InfluxDB's own); raises PointsRejected."""
        self._ensure_database()
        _raise_rejected(self._sink.write_lines(lines))

    def write_points(self, readings: Sequence[Reading]) -> WriteResult:
        """Store ``readings``; the points InfluxDB refused as malformed come back in ``rejected``."""
        self._ensure_database()
        return self._sink.write(readings)

    def query(self, asset_id: str, metric: str, since: datetime, until: datetime,
              window: timedelta | None = None, agg: Aggregation = "mean") -> list[tuple[datetime, float]]:
        self._ensure_database()
        where = f"WHERE \"asset\" = {quote_string(asset_id)} AND {time_range(since, until)}"
        field = quote_identifier(metric)
        if window is None:
            points = self._points(f"SELECT {field} FROM {_KINDS} {where}")
        else:
            window_ms = checked_window_ms(window, agg)
            if self._field_type(metric) == "boolean":
                points = aggregate(self._points(f"SELECT {field} FROM {_KINDS} {where}"), window_ms, agg)
            else:
                points = self._points(f"SELECT {agg}({field}) FROM {_KINDS} {where} "
                                      f"GROUP BY time({window_ms}ms) fill(none)")
        return [(from_ms(at), value) for at, value in sorted(points)]

    def latest(self, asset_ids: Collection[str] | None = None) -> dict[str, Reading]:
        if asset_ids is not None and not asset_ids:
            return {}
        self._ensure_database()
        where = ""
        if asset_ids is not None:
            where = "WHERE " + " OR ".join(f'"asset" = {quote_string(a)}' for a in sorted(asset_ids))
        # LAST(*) gives each metric's newest value but, being several selectors, no usable time; the
        # newest row per series gives the time.
        values, newest = self._statements(
            f'SELECT LAST(*) FROM {_KINDS} {where} GROUP BY "asset", "site"',
            f'SELECT * FROM {_KINDS} {where} GROUP BY "asset", "site" ORDER BY time DESC LIMIT 1',
        )
        times = {_series_key(s): s["values"][0][0] for s in newest.get("series", [])}
        result: dict[str, Reading] = {}
        for series in values.get("series", []):
            key = _series_key(series)
            reading = _reading(series, times[key])
            kept = result.get(reading.asset_id)
            if kept is None or reading.at > kept.at:  # an asset that moved site: its newest series wins
                result[reading.asset_id] = reading
        return result

    def delete_before(self, until: datetime) -> int:
        """Delete points older than ``until``; returns how many (asset, metric, time) values went."""
        self._ensure_database()
        before = f"time < {to_ms(until)}ms"
        counts, _ = self._statements(f"SELECT COUNT(*) FROM {_KINDS} WHERE {before}", f"DELETE WHERE {before}")
        return sum(int(n) for series in counts.get("series", []) for row in series["values"]
                   for n in row[1:] if n is not None)

    def close(self) -> None:
        self._sink.close()
        self._http.close()

    # -- HTTP -----------------------------------------------------------------------------------------
    def _ensure_database(self) -> None:
        """Create the v1 database once; until then a write would be refused (404) and dead-lettered."""
        with self._create_lock:  # not self._lock: the request may take its timeout
            if self._create is None:
                return
            self._statements(self._create)
            self._create = None

    def _points(self, statement: str) -> list[Point]:
        (result,) = self._statements(statement)
        return [(row[0], as_float(row[1])) for series in result.get("series", [])
                for row in series["values"] if row[1] is not None]

    def _field_type(self, metric: str) -> str | None:
        with self._lock:
            if metric in self._field_types:
                return self._field_types[metric]
        (result,) = self._statements("SHOW FIELD KEYS")
        types = {row[0]: row[1] for series in result.get("series", []) for row in series["values"]}
        with self._lock:
            self._field_types.update(types)
        return types.get(metric)

    def _statements(self, *statements: str) -> list[dict[str, Any]]:
        """Run InfluxQL statements in one request; one result per statement, errors raised."""
        response = self._request("/query", {"db": self.database, "epoch": "ms"},
                                 data={"q": ";\n".join(statements)})
        results: list[dict[str, Any]] = response.json().get("results", [])
        for result in results:
            if "error" in result:
                raise FacmonError(f"InfluxDB query failed: {result['error']}")
        return results

    def _request(self, path: str, params: dict[str, str], method: str = "POST", **body: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, params=params, **body)
        except httpx.TransportError as error:
            raise ServiceUnavailable(f"InfluxDB at {self.url} unreachable: {error!r}") from error
        if response.status_code >= 500:
            raise ServiceUnavailable(f"InfluxDB at {self.url} failed: {response.status_code} {_error(response)}")
        if response.status_code >= 400:
            raise FacmonError(f"InfluxDB refused {path}: {response.status_code} {_error(response)}")
        return response


def _error(response: httpx.Response) -> str:
    try:
        return str(response.json().get("error", response.text))
    except ValueError:
        return response.text


def _series_key(series: dict[str, Any]) -> tuple[str, str, str]:
    tags = series.get("tags", {})
    return series["name"], tags.get("asset", ""), tags.get("site", "")


def _reading(series: dict[str, Any], at_ms: int) -> Reading:
    kind, asset_id, site_id = _series_key(series)
    row = series["values"][0]
    metrics = {column.removeprefix("last_"): as_metric(value)
               for column, value in zip(series["columns"][1:], row[1:], strict=True) if value is not None}
    return Reading(site_id, AssetKind(kind), asset_id, from_ms(at_ms), metrics)


def _raise_rejected(result: WriteResult) -> None:
    if result.rejected:
        raise PointsRejected(result.rejected)
