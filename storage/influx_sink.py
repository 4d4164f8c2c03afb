"""Writing readings to InfluxDB: the 1.x ``/write`` API (httpx) or the v2 write API (influxdb-client).

``InfluxSink.write(readings) -> WriteResult`` sends line protocol (core.lineprotocol: measurement = asset
kind, tags site and asset, fields = metrics, ms timestamps, so a replayed point overwrites itself):
- in batches of ``batch_lines`` (InfluxDB writes fastest at 5-10k points, MEASURED.md), gzip-compressed;
  batching by time is the caller's flush interval (the collector's store writer);
- retrying 429 and 5xx answers (and unreachable servers) with capped, jittered exponential backoff, waiting
  at least what ``Retry-After`` asks; after ``max_attempts`` it raises ``ServiceUnavailable`` carrying
  ``retry_after_s``;
- a batch refused as malformed (400, e.g. a field type conflict: InfluxDB writes the good points of a
  "partial write" and drops the bad ones) is split in halves and re-sent until each bad point stands
  alone: those come back in ``WriteResult.rejected`` with InfluxDB's reason, for the dead letters. Re-sent
  good points overwrite themselves (same series and time), so nothing is duplicated.

Which API (settings ``telemetry.influx_api``): ``v1`` posts to ``/write?db=..&precision=ms`` (InfluxDB 1.x;
1.8+, 2.x and 3.x serve it too); ``v2`` uses influxdb-client's synchronous write API on ``/api/v2/write``
with org, bucket and token (InfluxDB 2.x, 3.x, 1.8+).
"""

from __future__ import annotations

import gzip
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from core.domain import Reading
from core.errors import FacmonError, ServiceUnavailable
from core.lineprotocol import read_line, to_line

BATCH_LINES = 5000
MAX_RETRY_AFTER_S = 300.0  # a Retry-After longer than this is waited for this long, then asked again


class Malformed(FacmonError):
    """The server refused the batch as malformed (HTTP 400); ``detail`` is its message."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"InfluxDB refused the batch: {detail}")
        self.detail = detail


class Retryable(FacmonError):
    """The server is unreachable, overloaded (429) or failing (5xx); try again after ``retry_after_s``."""

    retryable = True

    def __init__(self, detail: str, retry_after_s: float | None = None) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s


class Transport(Protocol):
    """Sends one batch of line protocol (ms precision); raises Malformed, Retryable or FacmonError."""

    def send(self, lines: bytes) -> None: ...

    def close(self) -> None: ...


@dataclass
class WriteResult:
    written: int = 0  # readings stored
    rejected: list[tuple[Reading, str]] = field(default_factory=list)  # (reading, the server's reason)


class PointsRejected(FacmonError):
    """Raised by ``InfluxTelemetryStore.write`` after storing the good points: these were refused."""

    def __init__(self, rejected: list[tuple[Reading, str]]) -> None:
        super().__init__(f"InfluxDB refused {len(rejected)} point(s): {rejected[0][1] if rejected else ''}")
        self.rejected = rejected


class InfluxSink:
    def __init__(self, transport: Transport, batch_lines: int = BATCH_LINES, max_attempts: int = 5,
                 backoff_s: float = 0.5, max_backoff_s: float = 30.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._transport = transport
        self._batch_lines = batch_lines
        self._max_attempts = max_attempts
        self._backoff_s = backoff_s
        self._max_backoff_s = max_backoff_s
        self._sleep = sleep

    def write(self, readings: Sequence[Reading]) -> WriteResult:
        """Store ``readings``; malformed points come back in ``rejected``; raises ServiceUnavailable."""
        points = [(reading, line.encode()) for reading in readings if (line := to_line(reading)) is not None]
        written, refused = self._write([line for _, line in points])
        return WriteResult(written, [(points[index][0], reason) for index, reason in refused])

    def write_lines(self, lines: Sequence[bytes]) -> WriteResult:
        """Store lines as ``core.lineprotocol.to_line`` writes them (the collector's spool records), as they are:
        no decoding on the way. Refused lines come back read as readings (``read_line``)."""
        written, refused = self._write(lines)
        return WriteResult(written, [(read_line(lines[index].decode()), reason) for index, reason in refused])

    def close(self) -> None:
        self._transport.close()

    def _write(self, lines: Sequence[bytes]) -> tuple[int, list[tuple[int, str]]]:
        """(lines written, [(index of a refused line, the server's reason)]), batch by batch."""
        refused: list[tuple[int, str]] = []
        written = 0
        for start in range(0, len(lines), self._batch_lines):
            written += self._write_batch(lines, start, min(len(lines), start + self._batch_lines), refused)
        return written, refused

    def _write_batch(self, lines: Sequence[bytes], start: int, end: int, refused: list[tuple[int, str]]) -> int:
        try:
            self._send(b"\n".join(lines[start:end]))
        except Malformed as error:
            if end - start == 1:
                refused.append((start, error.detail))
                return 0
            middle = (start + end) // 2  # bisect: only the bad points end up alone
            return (self._write_batch(lines, start, middle, refused)
                    + self._write_batch(lines, middle, end, refused))
        return end - start

    def _send(self, lines: bytes) -> None:
        for attempt in range(1, self._max_attempts + 1):
            try:
                self._transport.send(lines)
                return
            except Retryable as error:
                if attempt == self._max_attempts:
                    raise ServiceUnavailable(f"{error} (gave up after {attempt} attempts)",
                                             retry_after_s=error.retry_after_s) from error
                self._sleep(self.delay_s(attempt, error.retry_after_s))

    def delay_s(self, attempt: int, retry_after_s: float | None) -> float:
        """Exponential backoff with full jitter, capped; never shorter than the server's Retry-After (<= 300 s)."""
        backoff = random.uniform(0, min(self._max_backoff_s, self._backoff_s * 2 ** (attempt - 1)))
        if retry_after_s is None:
            return backoff
        return max(backoff, min(retry_after_s, MAX_RETRY_AFTER_S))


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds form; an HTTP date counts as unknown)."""
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def classify(status: int, detail: str, retry_after_header: str | None) -> None:
    """Raise the sink's error for an HTTP answer; 2xx passes."""
    if status < 300:
        return
    if status == 429 or status >= 500:
        raise Retryable(f"InfluxDB answered {status}: {detail}", retry_after(retry_after_header))
    if status == 400 or status == 422:
        raise Malformed(detail)
    raise FacmonError(f"InfluxDB refused the write: {status} {detail}")  # 401/403/404: configuration


class V1Transport:
    """``POST /write?db=..&precision=ms`` with a gzip body (InfluxDB 1.x, and 1.8+/2.x/3.x compatibility)."""

    def __init__(self, url: str, database: str, username: str | None = None, password: str | None = None,
                 gzip_body: bool = True, timeout_s: float = 10.0) -> None:
        auth = (username, password or "") if username is not None else None
        self.url = url
        self._params = {"db": database, "precision": "ms"}
        self._gzip = gzip_body
        self._http = httpx.Client(base_url=url, auth=auth, timeout=timeout_s)

    def send(self, lines: bytes) -> None:
        body = lines
        headers = {"Content-Type": "text/plain; charset=utf-8"}
        if self._gzip:
            body = gzip.compress(body, compresslevel=1)  # level 1: most of the gain for little CPU
            headers["Content-Encoding"] = "gzip"
        try:
            response = self._http.post("/write", params=self._params, content=body, headers=headers)
        except httpx.TransportError as error:
            raise Retryable(f"InfluxDB at {self.url} unreachable: {error!r}") from error
        classify(response.status_code, _error_text(response), response.headers.get("Retry-After"))

    def close(self) -> None:
        self._http.close()


class V2Transport:
    """influxdb-client's synchronous write API (``/api/v2/write``: InfluxDB 2.x, 3.x, 1.8+)."""

    def __init__(self, url: str, org: str, bucket: str, token: str | None, gzip_body: bool = True,
                 timeout_s: float = 10.0) -> None:
        from influxdb_client.client.influxdb_client import InfluxDBClient  # lazy: only this API needs it
        from influxdb_client.client.write_api import SYNCHRONOUS
        from influxdb_client.domain.write_precision import WritePrecision

        self.url = url
        self._org = org
        self._bucket = bucket
        self._precision: Any = WritePrecision.MS
        # retries=False: the sink retries (and honours Retry-After) itself, once, in one place.
        self._client: Any = InfluxDBClient(url=url, token=token or "", org=org, enable_gzip=gzip_body,
                                      timeout=int(timeout_s * 1000), retries=False)
        self._write_api = self._client.write_api(write_options=SYNCHRONOUS)

    def send(self, lines: bytes) -> None:
        from influxdb_client.rest import ApiException
        from urllib3.exceptions import HTTPError

        try:
            self._write_api.write(self._bucket, self._org, lines, write_precision=self._precision)
        except ApiException as error:
            headers: Any = error.headers or {}
            status = int(error.status or 0)
            if status == 0:
                raise Retryable(f"InfluxDB at {self.url} failed: {error}") from error
            classify(status, _api_error_text(error), headers.get("Retry-After"))
        except HTTPError as error:
            raise Retryable(f"InfluxDB at {self.url} unreachable: {error!r}") from error

    def close(self) -> None:
        self._client.close()


def _error_text(response: httpx.Response) -> str:
    try:
        return str(response.json().get("error") or response.json().get("message") or response.text)
    except ValueError:
        return response.text


def _api_error_text(error: Any) -> str:
    message = getattr(error, "message", None)
    if message:
        return str(message)
    body = error.body
    return body.decode(errors="replace") if isinstance(body, bytes) else str(body or error.reason)
