"""The embedded telemetry store: one SQLite file in WAL mode, used by ``facmon demo`` and tests.

Points live in a tall table keyed by (asset, metric, time) so a replayed point overwrites itself; a small
``latest`` table keeps each metric's newest value so the console's live view is one indexed read.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.catalogue import MetricType, metric_spec
from core.domain import AssetKind, MetricValue, Reading
from core.lineprotocol import read_line
from storage.telemetry import Aggregation, checked_window_ms

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS points (
    asset_id TEXT NOT NULL,
    metric TEXT NOT NULL,
    ts_ms INTEGER NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (asset_id, metric, ts_ms)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS latest (
    asset_id TEXT NOT NULL,
    metric TEXT NOT NULL,
    ts_ms INTEGER NOT NULL,
    value REAL NOT NULL,
    site_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    PRIMARY KEY (asset_id, metric)
) WITHOUT ROWID;
"""

_INSERT_POINT = "INSERT OR REPLACE INTO points (asset_id, metric, ts_ms, value) VALUES (?, ?, ?, ?)"
# ">=" so that a rewritten point at the newest time also rewrites the latest value.
_UPSERT_LATEST = """
INSERT INTO latest (asset_id, metric, ts_ms, value, site_id, kind) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (asset_id, metric) DO UPDATE SET
    ts_ms = excluded.ts_ms, value = excluded.value, site_id = excluded.site_id, kind = excluded.kind
WHERE excluded.ts_ms >= latest.ts_ms
"""

# Bucket start aligned to the epoch; the double modulo keeps it right for times before 1970.
_BUCKET = "(ts_ms - ((ts_ms % :w) + :w) % :w)"
_WHERE = "asset_id = :asset AND metric = :metric AND ts_ms >= :since AND ts_ms < :until"
_AGG_SQL: dict[Aggregation, str] = {
    "mean": "AVG(value)",
    "min": "MIN(value)",
    "max": "MAX(value)",
    "sum": "SUM(value)",
    "count": "COUNT(value)",
}


def to_ms(at: datetime) -> int:
    """Milliseconds since the epoch of an aware datetime (exact, no float rounding)."""
    if at.tzinfo is None:
        raise ValueError(f"naive datetime {at.isoformat()}: times must be timezone-aware")
    return (at - _EPOCH) // _MS


def from_ms(ts_ms: int) -> datetime:
    return _EPOCH + ts_ms * _MS


def _window_sql(agg: Aggregation) -> str:
    if agg == "last":
        # SQLite documents that a bare column next to MAX() comes from the row holding the maximum.
        return (f"SELECT {_BUCKET} AS bucket, value, MAX(ts_ms) FROM points WHERE {_WHERE} "
                "GROUP BY bucket ORDER BY bucket")
    return f"SELECT {_BUCKET} AS bucket, {_AGG_SQL[agg]} FROM points WHERE {_WHERE} GROUP BY bucket ORDER BY bucket"


def _newest_per_metric(readings: Iterable[Reading]) -> list[tuple[str, str, int, float, str, str]]:
    newest: dict[tuple[str, str], tuple[str, str, int, float, str, str]] = {}
    for reading in readings:
        ts_ms = to_ms(reading.at)
        for metric, value in reading.metrics.items():
            key = (reading.asset_id, metric)
            kept = newest.get(key)
            if kept is None or ts_ms >= kept[2]:
                newest[key] = (reading.asset_id, metric, ts_ms, float(value), reading.site_id,
                               reading.kind.value)
    return list(newest.values())


def _typed(kind: AssetKind, metric: str, value: float) -> MetricValue:
    spec = metric_spec(kind, metric)
    return bool(value) if spec is not None and spec.type is MetricType.FLAG else value


class SqliteTelemetryStore:
    """A :class:`~storage.telemetry.TelemetryStore` in one SQLite file; one connection behind a lock."""

    def __init__(self, path: Path) -> None:
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(str(path), check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)

    def ping(self) -> None:
        """A file next to the process: it answers while it can be read."""
        with self._lock:
            self._conn.execute("SELECT 1")

    def write(self, readings: Sequence[Reading]) -> None:
        points = [(r.asset_id, metric, to_ms(r.at), float(value))
                  for r in readings for metric, value in r.metrics.items()]
        if not points:
            return
        latest = _newest_per_metric(readings)
        with self._lock, self._conn:  # one transaction per call
            self._conn.executemany(_INSERT_POINT, points)
            self._conn.executemany(_UPSERT_LATEST, latest)

    def write_lines(self, lines: Sequence[bytes]) -> None:
        self.write([read_line(line.decode()) for line in lines])

    def query(self, asset_id: str, metric: str, since: datetime, until: datetime,
              window: timedelta | None = None, agg: Aggregation = "mean") -> list[tuple[datetime, float]]:
        params: dict[str, object] = {"asset": asset_id, "metric": metric,
                                     "since": to_ms(since), "until": to_ms(until)}
        if window is None:
            sql = f"SELECT ts_ms, value FROM points WHERE {_WHERE} ORDER BY ts_ms"
        else:
            window_ms = checked_window_ms(window, agg)
            params["w"] = window_ms
            sql = _window_sql(agg)
        with self._lock:
            rows = self._conn.execute(sql, params).fetchall()
        return [(from_ms(row[0]), float(row[1])) for row in rows]

    def latest(self, asset_ids: Collection[str] | None = None) -> dict[str, Reading]:
        sql = "SELECT asset_id, metric, ts_ms, value, site_id, kind FROM latest"
        params: list[str] = []
        if asset_ids is not None:
            params = list(asset_ids)
            if not params:
                return {}
            sql += f" WHERE asset_id IN ({', '.join('?' * len(params))})"
        with self._lock:
            rows = self._conn.execute(sql + " ORDER BY asset_id", params).fetchall()
        return _readings_from_rows(rows)

    def delete_before(self, until: datetime) -> int:
        cutoff = to_ms(until)
        with self._lock, self._conn:
            deleted = self._conn.execute("DELETE FROM points WHERE ts_ms < ?", (cutoff,)).rowcount
            self._conn.execute("DELETE FROM latest WHERE ts_ms < ?", (cutoff,))
        return deleted

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _readings_from_rows(rows: Iterable[tuple[str, str, int, float, str, str]]) -> dict[str, Reading]:
    grouped: dict[str, list[tuple[str, str, int, float, str, str]]] = {}
    for row in rows:
        grouped.setdefault(row[0], []).append(row)
    result: dict[str, Reading] = {}
    for asset_id, asset_rows in grouped.items():
        newest = max(asset_rows, key=lambda row: row[2])
        kind = AssetKind(newest[5])
        metrics = {row[1]: _typed(kind, row[1], row[3]) for row in asset_rows}
        result[asset_id] = Reading(newest[4], kind, asset_id, from_ms(newest[2]), metrics)
    return result
