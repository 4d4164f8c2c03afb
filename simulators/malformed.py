"""Deliberately malformed telemetry payloads, to exercise a receiver's dead-letter path (pure)."""

from __future__ import annotations

from datetime import datetime

import orjson

from core.catalogue import CATALOGUE, MetricType
from core.domain import AssetKind
from core.wire import format_timestamp

# The defects, in the order they are injected; each maps to one core.errors.RejectReason.
DEFECTS = ("invalid_json", "invalid_utf8", "not_finite", "out_of_range", "unknown_metric")


def malformed_payload(index: int, kind: AssetKind, at: datetime) -> tuple[str, bytes]:
    """The ``index``-th malformed payload (cycling through DEFECTS) for a ``kind`` device: (defect, bytes)."""
    defect = DEFECTS[index % len(DEFECTS)]
    ts = format_timestamp(at)
    gauge = next(spec for spec in CATALOGUE[kind].values() if spec.type is MetricType.GAUGE)
    if defect == "invalid_json":
        payload = b'{"ts": "' + ts.encode() + b'", "metrics": {'
    elif defect == "invalid_utf8":
        payload = b'{"ts": "' + ts.encode() + b'", "metrics": {"\xff\xfe": 1}}'
    elif defect == "not_finite":
        payload = f'{{"ts": "{ts}", "metrics": {{"{gauge.name}": NaN}}}}'.encode()
    elif defect == "out_of_range":
        payload = orjson.dumps({"ts": ts, "metrics": {gauge.name: gauge.plausible[1] * 10 + 1}})
    else:
        payload = orjson.dumps({"ts": ts, "metrics": {"flux_capacitor_gw": 1.21}})
    return defect, payload
