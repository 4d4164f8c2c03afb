"""The telemetry store interface and the factory that picks a backend from the settings."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Literal, Protocol

from core.domain import Reading
from core.settings import TelemetrySettings

Aggregation = Literal["mean", "min", "max", "last", "sum", "count"]
AGGREGATIONS: tuple[Aggregation, ...] = ("mean", "min", "max", "last", "sum", "count")


class TelemetryStore(Protocol):
    """Time series of metric values per asset. Implementations are safe to call from several threads."""

    def ping(self) -> None:
        """Return if the store answers now; raise ServiceUnavailable (with the reason) if not. Cheap: the
        health watch calls it every few seconds."""
        ...

    def write(self, readings: Sequence[Reading]) -> None:
        """Store every metric of every reading; a point rewritten at the same (asset, metric, time) overwrites."""
        ...

    def write_lines(self, lines: Sequence[bytes]) -> None:
        """``write`` for readings given as the lines ``core.lineprotocol.to_line`` writes (the collector's spool
        records, passed on as they are)."""
        ...

    def query(self, asset_id: str, metric: str, since: datetime, until: datetime,
              window: timedelta | None = None, agg: Aggregation = "mean") -> list[tuple[datetime, float]]:
        """Points in ``[since, until)`` sorted by time; booleans as 0.0/1.0.

        ``window=None`` returns the raw points; otherwise one ``agg`` value per non-empty window,
        windows aligned to the Unix epoch and stamped with their start.
        """
        ...

    def latest(self, asset_ids: Collection[str] | None = None) -> dict[str, Reading]:
        """Per asset, a Reading holding the newest value of each metric; ``.at`` is the newest time."""
        ...

    def delete_before(self, until: datetime) -> int:
        """Retention: delete points older than ``until``; returns how many were deleted."""
        ...

    def close(self) -> None:
        ...


def checked_window_ms(window: timedelta, agg: str) -> int:
    """A query's aggregation window in whole milliseconds, after checking the window and aggregation."""
    if agg not in AGGREGATIONS:
        raise ValueError(f"unknown aggregation {agg!r}")
    milliseconds = window // timedelta(milliseconds=1)
    if milliseconds <= 0:
        raise ValueError("window must be at least one millisecond")
    return milliseconds


def open_telemetry_store(settings: TelemetrySettings) -> TelemetryStore:
    """The store named by ``settings.backend``; the InfluxDB client is imported only when chosen."""
    if settings.backend == "influxdb":
        from storage.influx_telemetry import InfluxTelemetryStore  # lazy: only this backend needs its client

        password = settings.influx_password.get_secret_value() if settings.influx_password else None
        token = settings.influx_token.get_secret_value() if settings.influx_token else None
        return InfluxTelemetryStore(settings.influx_url, settings.influx_database,
                                    settings.influx_username, password, api=settings.influx_api,
                                    org=settings.influx_org, bucket=settings.influx_bucket, token=token,
                                    gzip_body=settings.influx_gzip, batch_lines=settings.influx_batch_size)
    from storage.sqlite_telemetry import SqliteTelemetryStore

    return SqliteTelemetryStore(settings.sqlite_path)
