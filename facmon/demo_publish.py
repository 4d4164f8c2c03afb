"""How a newcomer publishes to the demo: the embedded broker's address and a ready ``mosquitto_pub`` line.

The demo runs on accelerated time, and the collector refuses a reading more than five simulated minutes
ahead of its clock or more than a week behind it, so the line computes the reading's ``ts`` in demo time
when it runs: ``demo start + (now - wall start) x speed``, in epoch seconds, with the shell's arithmetic.
QoS 1, as devices are expected to publish (the collector acknowledges after the durable spool).
"""

from __future__ import annotations

import json
import math
import shlex
from datetime import datetime

from core.catalogue import CATALOGUE, MetricType
from core.domain import Asset
from core.wire import telemetry_topic


def sample_metrics(asset: Asset) -> dict[str, float]:
    """One normal gauge reading of the asset's kind: the middle of its normal range."""
    for spec in CATALOGUE[asset.kind].values():
        if spec.type is MetricType.GAUGE:
            low, high = spec.normal
            return {spec.name: round((low + high) / 2, 2)}
    return {}


def demo_ts_expression(sim_now: datetime, speed: float, wall_now: float) -> str:
    """A shell expression for the demo's time in epoch seconds (``$(( ... ))``), never ahead of it.

    ``sim_now`` and ``wall_now`` are one moment on the demo's clock and on the wall. Whole seconds only:
    the wall moment is rounded up and ``date +%s`` rounds down, so the result lags by under two wall seconds
    of demo time, well inside the week the collector accepts and never past its five minutes of future.
    """
    per_mille = max(1, round(speed * 1000))
    return f"$(( {math.floor(sim_now.timestamp())} + ($(date +%s) - {math.ceil(wall_now)}) * {per_mille} / 1000 ))"


def publish_hint(host: str, port: int, asset: Asset, sim_now: datetime, speed: float, wall_now: float) -> list[str]:
    """The lines the demo prints: where the broker is, and a command that publishes one accepted reading."""
    metrics = json.dumps(sample_metrics(asset))
    payload = f'{{"ts": {demo_ts_expression(sim_now, speed, wall_now)}, "metrics": {metrics}}}'
    escaped = payload.replace("\\", "\\\\").replace('"', '\\"')
    topic = telemetry_topic(asset.site_id, asset.kind, asset.id)
    return [f"MQTT broker: {host}:{port} (embedded, MQTT 3.1.1, no password); publish a reading as {asset.id}:",
            f"  mosquitto_pub -h {host} -p {port} -q 1 -t {shlex.quote(topic)} -m \"{escaped}\"",
            "  (then: facmon deadletters list shows what was refused and why; /api/v1/stats counts what arrived)"]
