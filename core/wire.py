"""The device wire format, both ways: MQTT topics and JSON telemetry payloads.

Topic: ``facmon/v1/{site}/{kind}/{asset}/{channel}`` with channel ``telemetry``, ``status`` or ``lp``.
Payload: ``{"ts": ISO-8601 | epoch seconds, "metrics": {name: number | bool}, "seq": int?}``.
Decoding checks shape and types only; the catalogue check (known metric, plausible range) is the
collector's, because it needs the asset registry.
"""

from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from core.domain import AssetKind, MetricValue, Reading
from core.errors import InvalidMessage, RejectReason

TOPIC_ROOT = "facmon/v1"
TELEMETRY = "telemetry"
STATUS = "status"
LINE_PROTOCOL = "lp"
CHANNELS = (TELEMETRY, STATUS, LINE_PROTOCOL)
ONLINE = "online"
OFFLINE = "offline"

# Site and asset ids: letters, digits, '-', '_' and '.', so they are safe in topics, tags and URLs.
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True, slots=True)
class TopicAddress:
    site_id: str
    kind: AssetKind
    asset_id: str
    channel: str


def is_valid_id(value: str) -> bool:
    return bool(_ID.match(value))


def telemetry_topic(site_id: str, kind: AssetKind, asset_id: str) -> str:
    return f"{TOPIC_ROOT}/{site_id}/{kind.value}/{asset_id}/{TELEMETRY}"


def status_topic(site_id: str, kind: AssetKind, asset_id: str) -> str:
    return f"{TOPIC_ROOT}/{site_id}/{kind.value}/{asset_id}/{STATUS}"


def subscription(prefix: str = TOPIC_ROOT) -> str:
    """The topic filter that matches every device topic under ``prefix``."""
    return f"{prefix}/+/+/+/+"


@functools.lru_cache(maxsize=1 << 16)  # a device's topic recurs with each message it sends
def parse_topic(topic: str) -> TopicAddress:
    """Split a device topic into its parts; raises InvalidMessage(bad_topic) if it is not one."""
    parts = topic.split("/")
    if len(parts) != 6 or f"{parts[0]}/{parts[1]}" != TOPIC_ROOT:
        raise InvalidMessage(RejectReason.BAD_TOPIC, f"not a facmon device topic: {topic!r}")
    _, _, site_id, kind, asset_id, channel = parts
    if kind not in AssetKind.__members__.values():
        raise InvalidMessage(RejectReason.BAD_TOPIC, f"unknown asset kind {kind!r} in {topic!r}")
    if not (is_valid_id(site_id) and is_valid_id(asset_id)) or channel not in CHANNELS:
        raise InvalidMessage(RejectReason.BAD_TOPIC, f"malformed topic {topic!r}")
    return TopicAddress(site_id, AssetKind(kind), asset_id, channel)


def format_timestamp(at: datetime) -> str:
    """ISO-8601 UTC with milliseconds and a 'Z', as devices send it."""
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def encode_reading(reading: Reading) -> bytes:
    body: dict[str, Any] = {"ts": format_timestamp(reading.at), "metrics": reading.metrics}
    if reading.seq is not None:
        body["seq"] = reading.seq
    return orjson.dumps(body)


def decode_reading(address: TopicAddress, payload: bytes) -> Reading:
    """Decode a JSON telemetry payload sent on ``address``; raises InvalidMessage with a reason."""
    body = _load_json(payload)
    if not isinstance(body, dict) or not isinstance(body.get("metrics"), dict):
        raise InvalidMessage(RejectReason.BAD_SHAPE, "payload must be an object with a 'metrics' object")
    named = body.get("asset")
    if named is not None and named != address.asset_id:
        raise InvalidMessage(RejectReason.ASSET_MISMATCH,
                             f"payload names asset {named!r} but the topic is for {address.asset_id!r}")
    seq = body.get("seq")
    if seq is not None and (isinstance(seq, bool) or not isinstance(seq, int)):
        raise InvalidMessage(RejectReason.BAD_SHAPE, f"'seq' must be an integer, got {seq!r}")
    return Reading(address.site_id, address.kind, address.asset_id, parse_timestamp(body.get("ts")),
                   _metric_values(body["metrics"]), seq)


def parse_timestamp(value: object) -> datetime:
    """An ISO-8601 string with a zone, or epoch seconds, as an aware UTC datetime."""
    try:
        if isinstance(value, str):
            at = datetime.fromisoformat(value)
            if at.tzinfo is UTC:
                return at  # "...Z", as devices send it
            if at.tzinfo is None:
                raise ValueError("timestamp has no time zone")
            return at.astimezone(UTC)
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return datetime.fromtimestamp(value, UTC)
    except (ValueError, OverflowError, OSError) as error:
        raise InvalidMessage(RejectReason.BAD_TIMESTAMP, f"cannot read 'ts' {value!r}: {error}") from None
    raise InvalidMessage(RejectReason.BAD_TIMESTAMP, f"'ts' must be ISO-8601 or epoch seconds, got {value!r}")


def _load_json(payload: bytes) -> Any:
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError as error:
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidMessage(RejectReason.INVALID_UTF8, "payload is not valid UTF-8") from None
        # orjson refuses NaN/Infinity outright; tell that case apart so it counts under its own reason.
        try:
            json.loads(text)
        except ValueError:
            raise InvalidMessage(RejectReason.INVALID_JSON, str(error)) from None
        raise InvalidMessage(RejectReason.NOT_FINITE, "payload contains NaN or Infinity") from None


def _metric_values(metrics: dict[str, Any]) -> dict[str, MetricValue]:
    """Numbers as floats, flags as booleans (one pass: every message goes through here)."""
    if not metrics:
        raise InvalidMessage(RejectReason.BAD_SHAPE, "'metrics' is empty")
    values: dict[str, MetricValue] = {}
    for name, value in metrics.items():
        kind = type(value)
        if kind is int:
            value = float(value)
        elif kind is float:
            if not -math.inf < value < math.inf:
                raise InvalidMessage(RejectReason.NOT_FINITE, f"metric {name!r} is {value}")
        elif kind is not bool:
            raise InvalidMessage(RejectReason.WRONG_TYPE,
                                 f"metric {name!r} must be a number or boolean, got {kind.__name__}")
        values[name] = value
    return values
