"""The wire format, both ways, and the decoder's promise: every input is a Reading or an InvalidMessage."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.domain import AssetKind, Reading
from core.errors import InvalidMessage, RejectReason
from core.wire import (
    TopicAddress,
    decode_reading,
    encode_reading,
    parse_topic,
    status_topic,
    telemetry_topic,
)

ADDRESS = TopicAddress("s1", AssetKind.PUMP, "p1", "telemetry")


def test_topic_round_trip() -> None:
    topic = telemetry_topic("harbour", AssetKind.ELEVATOR, "el-1")
    assert topic == "facmon/v1/harbour/elevator/el-1/telemetry"
    assert parse_topic(topic) == TopicAddress("harbour", AssetKind.ELEVATOR, "el-1", "telemetry")
    assert parse_topic(status_topic("harbour", AssetKind.PUMP, "p2")).channel == "status"


@pytest.mark.parametrize("topic", [
    "facmon/v1/s1/pump/p1", "facmon/v2/s1/pump/p1/telemetry", "facmon/v1/s1/boiler/p1/telemetry",
    "facmon/v1/s1/pump/p1/other", "facmon/v1/s 1/pump/p1/telemetry", "facmon/v1//pump/p1/telemetry",
])
def test_bad_topics_are_rejected(topic: str) -> None:
    with pytest.raises(InvalidMessage) as caught:
        parse_topic(topic)
    assert caught.value.reason == RejectReason.BAD_TOPIC


def test_reading_round_trip() -> None:
    at = datetime(2026, 11, 27, 8, 0, 0, 123000, tzinfo=UTC)
    reading = Reading("s1", AssetKind.PUMP, "p1", at, {"flow_m3h": 31.5, "running": True}, seq=7)
    assert decode_reading(ADDRESS, encode_reading(reading)) == reading


def test_epoch_seconds_are_accepted() -> None:
    reading = decode_reading(ADDRESS, b'{"ts": 1764230400.5, "metrics": {"flow_m3h": 3}}')
    assert reading.at == datetime(2025, 11, 27, 8, 0, 0, 500000, tzinfo=UTC)
    assert reading.metrics == {"flow_m3h": 3.0}


@pytest.mark.parametrize(("payload", "reason"), [
    (b"\xff\xfe", RejectReason.INVALID_UTF8),
    (b"{not json", RejectReason.INVALID_JSON),
    (b'{"ts": 1, "metrics": {"flow_m3h": NaN}}', RejectReason.NOT_FINITE),
    (b'{"ts": 1, "metrics": {"flow_m3h": Infinity}}', RejectReason.NOT_FINITE),
    (b'[1, 2]', RejectReason.BAD_SHAPE),
    (b'{"ts": 1, "metrics": {}}', RejectReason.BAD_SHAPE),
    (b'{"ts": 1, "metrics": {"flow_m3h": "3"}}', RejectReason.WRONG_TYPE),
    (b'{"ts": "2026-11-27T08:00:00", "metrics": {"flow_m3h": 3}}', RejectReason.BAD_TIMESTAMP),
    (b'{"ts": "yesterday", "metrics": {"flow_m3h": 3}}', RejectReason.BAD_TIMESTAMP),
    (b'{"ts": 1, "asset": "p9", "metrics": {"flow_m3h": 3}}', RejectReason.ASSET_MISMATCH),
    (b'{"ts": 1, "seq": "x", "metrics": {"flow_m3h": 3}}', RejectReason.BAD_SHAPE),
])
def test_malformed_payloads_name_their_reason(payload: bytes, reason: str) -> None:
    with pytest.raises(InvalidMessage) as caught:
        decode_reading(ADDRESS, payload)
    assert caught.value.reason == reason


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=6,
)


@given(st.binary(max_size=300))
def test_any_bytes_decode_or_raise_invalid_message(payload: bytes) -> None:
    with contextlib.suppress(InvalidMessage):
        decode_reading(ADDRESS, payload)


@settings(suppress_health_check=[HealthCheck.too_slow])  # the CI machine may be busy
@given(st.dictionaries(st.sampled_from(["ts", "metrics", "seq", "asset", "x"]), json_values, max_size=5))
def test_any_json_object_decodes_or_raises_invalid_message(body: dict[str, object]) -> None:
    try:
        payload = orjson.dumps(body)
    except (TypeError, orjson.JSONEncodeError):
        payload = repr(body).encode()
    try:
        reading = decode_reading(ADDRESS, payload)
    except InvalidMessage:
        return
    assert reading.metrics
    assert all(isinstance(v, bool | float) for v in reading.metrics.values())
