"""Helpers of the ingest failure tests: an exact QoS 1 publisher and InfluxDB point counts and contents."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from core.domain import AssetKind
from core.wire import telemetry_topic
from facmon.bench.ingest import count_points
from simulators.load import load_assets, load_device_ids

DEVICES = 50
__all__ = ["DEVICES", "Publisher", "count_points", "load_assets", "stored_points", "wait_for"]


class Publisher:
    """Publishes numbered messages at QoS 1, each with its own (device, millisecond) so it is one point in
    InfluxDB; counts what the broker acknowledged. Reconnects by itself (persistent session)."""

    def __init__(self, host: str, port: int, site: str, rate: float | None = None) -> None:
        self.site, self.rate = site, rate
        self.devices = load_device_ids(DEVICES)
        self.acked = 0
        self.sent = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{secrets.token_hex(4)}",
                                   clean_session=False)
        self._client.max_inflight_messages_set(200)
        self._client.max_queued_messages_set(0)
        self._client.on_publish = self._on_publish
        self._client.reconnect_delay_set(0.2, 1)  # type: ignore[arg-type]
        self._client.connect(host, port)
        self._client.loop_start()
        self._base_ms = int(time.time() * 1000) - 3_600_000  # an hour ago: inside the late-data limit
        self._thread: threading.Thread | None = None

    def _on_publish(self, *_args: object) -> None:
        with self._lock:
            self.acked += 1

    def publish(self, count: int) -> None:
        """Publish ``count`` messages (paced at ``rate`` if set); returns when all are queued in paho."""
        start = time.monotonic()
        for i in range(count):
            if self._stop.is_set():
                return
            device, at_ms, flow = self.message(self.sent)
            payload = b'{"ts":%.3f,"metrics":{"flow_m3h":%.1f,"running":true}}' % (at_ms / 1000, flow)
            self._client.publish(telemetry_topic(self.site, AssetKind.PUMP, device), payload, qos=1)
            self.sent += 1
            if self.rate is not None:
                delay = start + (i + 1) / self.rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)

    def message(self, n: int) -> tuple[str, int, float]:
        """Message ``n``: its device, its time (epoch ms; per device one millisecond per message, so every
        message is its own point) and its flow_m3h value."""
        return self.devices[n % DEVICES], self._base_ms + n // DEVICES, n % 50 + 0.5

    def expected_points(self) -> dict[tuple[str, int], float]:
        """(asset, epoch ms) -> flow_m3h of every message published so far."""
        return {(device, at_ms): flow for device, at_ms, flow in map(self.message, range(self.sent))}

    def publish_in_background(self, count: int) -> None:
        self._thread = threading.Thread(target=self.publish, args=(count,), name="test-publisher", daemon=True)
        self._thread.start()

    @property
    def sending(self) -> bool:
        """The background publisher is still running."""
        return self._thread is not None and self._thread.is_alive()

    def finish(self) -> None:
        """Stop the background publisher after its current message (what it sent stays counted)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def wait_acked(self, timeout_s: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout_s)
        wait_for(lambda: self.acked >= self.sent, timeout_s, f"broker acknowledgements ({self.acked}/{self.sent})")

    def close(self) -> None:
        self._stop.set()
        self._client.disconnect()
        self._client.loop_stop()


def stored_points(influx_url: str, database: str, site: str) -> list[tuple[str, int, float]]:
    """Every flow_m3h point InfluxDB holds for ``site``: (asset, epoch ms, value), in one unchunked query."""
    response = httpx.get(f"{influx_url}/query", params={
        "db": database, "epoch": "ms", "q": f"SELECT flow_m3h, asset FROM pump WHERE site = '{site}'"}, timeout=60)
    response.raise_for_status()
    result = response.json()["results"][0]
    assert not result.get("partial"), "InfluxDB cut the answer short (max-row-limit)"
    points = []
    for series in result.get("series", []):
        time_at, flow_at, asset_at = (series["columns"].index(c) for c in ("time", "flow_m3h", "asset"))
        points += [(row[asset_at], int(row[time_at]), float(row[flow_at])) for row in series["values"]]
    return points


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.1)
