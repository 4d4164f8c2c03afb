"""`facmon bench decode`: Decoder throughput per format (JSON, line protocol, Sparkplug B DDATA) on one core.

Each format decodes and validates the same pump report (six metrics) ``--messages`` times on this thread,
payloads built beforehand; prints one JSON object with msgs/s per format and the payload sizes.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from core.domain import Asset, AssetKind, MetricValue, Reading

AT = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
METRICS: dict[str, MetricValue] = {"flow_m3h": 31.5, "discharge_bar": 4.2, "suction_bar": 1.1,
                                   "vibration_mm_s": 1.7, "bearing_temp_c": 48.0, "running": True}


def register(benchmarks: Any) -> None:
    bench = benchmarks.add_parser("decode", help="decode+validate throughput per format (one JSON object)")
    bench.add_argument("--messages", type=int, default=100_000, help="messages per format")
    bench.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    print(json.dumps(bench_decode(args.messages)))  # noqa: T201
    return 0


def bench_decode(messages: int) -> dict[str, Any]:
    from collector.decode import Decoder
    from collector.validate import TimeLimits
    from core.clock import ManualClock

    asset = Asset("p1", "s1", AssetKind.PUMP, "Pump 1")

    class Registry:
        def find(self, asset_id: str) -> Asset | None:
            return asset if asset_id == asset.id else None

    def decoder() -> Decoder:
        return Decoder(Registry(), TimeLimits(timedelta(days=7), timedelta(minutes=5)), 65536,
                       ManualClock(AT + timedelta(hours=1)))

    result: dict[str, Any] = {"benchmark": "decode", "messages": messages, "metrics_per_message": len(METRICS)}
    for name, build in (("json", _json), ("lp", _line_protocol), ("sparkplug", _sparkplug)):
        fresh = decoder()
        topic, payloads = build(messages, fresh)
        rate = _time(fresh, topic, payloads)
        result[f"{name}_msgs_per_s"] = round(rate)
        result[f"{name}_bytes"] = len(payloads[0])
    return result


def _time(decoder: Any, topic: str, payloads: list[bytes]) -> float:
    decode = decoder.decode
    started = time.perf_counter()
    for payload in payloads:
        decode(topic, payload)
    return len(payloads) / (time.perf_counter() - started)


def _at(i: int) -> datetime:
    return AT + timedelta(milliseconds=i)


def _json(count: int, _decoder: object) -> tuple[str, list[bytes]]:
    from core.wire import format_timestamp

    return "facmon/v1/s1/pump/p1/telemetry", [
        json.dumps({"ts": format_timestamp(_at(i)), "metrics": METRICS, "seq": i}).encode() for i in range(count)]


def _line_protocol(count: int, _decoder: object) -> tuple[str, list[bytes]]:
    from core.lineprotocol import encode_reading

    return "facmon/v1/s1/pump/p1/lp", [
        encode_reading(Reading("s1", AssetKind.PUMP, "p1", _at(i), METRICS)).encode() for i in range(count)]


def _sparkplug(count: int, decoder: Any) -> tuple[str, list[bytes]]:
    from core.sparkplug import DataType, MessageType, Metric, birth_payload, data_payload, encode_payload, spb_topic

    types = [DataType.BOOLEAN if isinstance(v, bool) else DataType.DOUBLE for v in METRICS.values()]
    decoder.decode(spb_topic("s1", MessageType.NBIRTH, "gw"), encode_payload(birth_payload([], 0, AT, bd_seq=0)))
    births = [Metric(name, alias, types[alias], value) for alias, (name, value) in enumerate(METRICS.items())]
    decoder.decode(spb_topic("s1", MessageType.DBIRTH, "gw", "p1"), encode_payload(birth_payload(births, 1, AT)))
    values = [(alias, types[alias], value) for alias, value in enumerate(METRICS.values())]
    return spb_topic("s1", MessageType.DDATA, "gw", "p1"), [
        encode_payload(data_payload(values, (i + 2) % 256, _at(i))) for i in range(count)]
