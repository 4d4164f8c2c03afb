"""Sparkplug B: the payload codec and topics (core.sparkplug) and the host session through the Decoder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.decode import Decoder, SparkplugRejected
from collector.validate import TimeLimits
from core.clock import ManualClock
from core.domain import Asset, AssetKind, Reading
from core.errors import InvalidMessage, RejectReason
from core.sparkplug import (
    DataType,
    MessageType,
    Metric,
    Payload,
    SpbTopic,
    birth_payload,
    data_payload,
    death_payload,
    decode_payload,
    device_death_payload,
    encode_payload,
    host_state_payload,
    host_state_topic,
    parse_spb_topic,
    spb_topic,
    to_ms,
)

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
REASONS = set(vars(RejectReason).values())
PUMP = Asset("p1", "plant", AssetKind.PUMP, "Pump 1")
REBIRTH_TOPIC = "spBv1.0/plant/NCMD/gw1"


class Registry:
    def find(self, asset_id: str) -> Asset | None:
        return PUMP if asset_id == "p1" else None


def decoder() -> Decoder:
    return Decoder(Registry(), TimeLimits(timedelta(days=1), timedelta(minutes=5)), 8192, ManualClock(NOW))


def send(decode: Decoder, kind: MessageType, payload: Payload, device: str | None = "p1"):  # type: ignore[no-untyped-def]
    device = None if kind in (MessageType.NBIRTH, MessageType.NDATA, MessageType.NDEATH) else device
    return decode.decode(spb_topic("plant", kind, "gw1", device), encode_payload(payload))


PUMP_BIRTH = [Metric("Hydraulics/flow_m3h", 1, DataType.DOUBLE, 30.0), Metric("running", 2, DataType.BOOLEAN, True),
              Metric("bearing_temp_c", 3, DataType.FLOAT, 41.5), Metric("starts", 4, DataType.INT32, 7),
              Metric("Properties/Serial", 5, DataType.STRING, "X1"), Metric("oil_level", 6, DataType.DOUBLE, 1.0)]


def born(decode: Decoder) -> None:
    send(decode, MessageType.NBIRTH, birth_payload([], 0, NOW, bd_seq=3))
    send(decode, MessageType.DBIRTH, birth_payload(PUMP_BIRTH, 1, NOW))


# -- codec and topics -------------------------------------------------------------------------------------
def test_topics_round_trip_and_bad_ones_are_refused() -> None:
    assert parse_spb_topic(spb_topic("g", "DDATA", "n", "d")) == SpbTopic("g", MessageType.DDATA, "n", "d")
    assert parse_spb_topic("spBv1.0/g/NBIRTH/n") == SpbTopic("g", MessageType.NBIRTH, "n")
    for bad in ("spBv1.0/g/NBIRTH/n/d", "spBv1.0/g/DDATA/n", "spBv1.0/g/XDATA/n", "spBv1.0//NDATA/n", "spAv1.0/g"):
        with pytest.raises(InvalidMessage) as caught:
            parse_spb_topic(bad)
        assert caught.value.reason == RejectReason.INVALID_SPARKPLUG


def test_host_state_is_json_on_the_state_topic() -> None:
    assert host_state_topic("facmon") == "spBv1.0/STATE/facmon"
    assert host_state_payload(True, NOW) == b'{"online":true,"timestamp":%d}' % to_ms(NOW)
    assert parse_spb_topic("spBv1.0/STATE/facmon") == SpbTopic("", MessageType.STATE, "facmon")
    result = decoder().decode("spBv1.0/STATE/facmon", host_state_payload(False, NOW))
    assert (list(result.readings), list(result.statuses), list(result.reply)) == ([], [], [])


_METRICS = st.one_of(
    st.builds(Metric, st.text(max_size=20), st.integers(0, 2**64 - 1), st.sampled_from([DataType.DOUBLE]),
              st.floats(allow_nan=False)),
    st.builds(Metric, st.none(), st.integers(0, 100), st.just(DataType.BOOLEAN), st.booleans()),
    st.builds(Metric, st.text(max_size=5), st.none(), st.just(DataType.INT8), st.integers(-128, 127)),
    st.builds(Metric, st.text(max_size=5), st.none(), st.just(DataType.INT32), st.integers(-2**31, 2**31 - 1)),
    st.builds(Metric, st.text(max_size=5), st.none(), st.just(DataType.INT64), st.integers(-2**63, 2**63 - 1)),
    st.builds(Metric, st.text(max_size=5), st.none(), st.just(DataType.UINT64), st.integers(0, 2**64 - 1)),
    st.builds(Metric, st.text(max_size=5), st.none(), st.just(DataType.STRING), st.text(max_size=10)),
    st.builds(Metric, st.text(max_size=5), st.none(), st.just(DataType.DOUBLE), st.none(),
              st.none() | st.integers(0, 2**40)),
)


@given(st.builds(Payload, st.none() | st.integers(0, 2**63), st.lists(_METRICS, max_size=5).map(tuple),
                 st.none() | st.integers(0, 255)))
def test_payload_round_trips(payload: Payload) -> None:
    assert decode_payload(encode_payload(payload)) == payload


def test_a_negative_int8_reads_back_whether_sign_extended_to_the_field_or_to_the_type() -> None:
    wide = encode_payload(Payload(None, (Metric("x", None, DataType.INT8, -3),)))
    assert decode_payload(wide).metrics[0].value == -3
    # Tahu's Python library stores -3 as an Int8 as 253 (two's complement of the type's own width)
    narrow = encode_payload(Payload(None, (Metric("x", None, DataType.UINT8, 253),))).replace(b"\x20\x05", b"\x20\x01")
    assert decode_payload(narrow).metrics[0].value == -3


@given(st.binary(max_size=200))
def test_decoding_arbitrary_bytes_gives_a_payload_or_invalid_sparkplug(data: bytes) -> None:
    try:
        decode_payload(data)
    except InvalidMessage as error:
        reason: str | None = error.reason
    else:
        reason = None
    assert reason in (None, RejectReason.INVALID_SPARKPLUG)


# -- the host session -------------------------------------------------------------------------------------
def test_births_define_aliases_and_data_by_alias_becomes_readings() -> None:
    decode = decoder()
    send(decode, MessageType.NBIRTH, birth_payload([], 0, NOW, bd_seq=3))
    birth = send(decode, MessageType.DBIRTH, birth_payload(PUMP_BIRTH, 1, NOW - timedelta(seconds=1)))
    assert birth.status == ("p1", "online")
    assert birth.readings == [Reading("plant", AssetKind.PUMP, "p1", NOW - timedelta(seconds=1),
                                      {"flow_m3h": 30.0, "running": True, "bearing_temp_c": 41.5, "starts": 7.0})]
    data = send(decode, MessageType.DDATA, data_payload([(1, DataType.DOUBLE, 31.0), (2, DataType.BOOLEAN, False)],
                                                        2, NOW))
    assert data.readings == [Reading("plant", AssetKind.PUMP, "p1", NOW, {"flow_m3h": 31.0, "running": False})]
    assert data.reply == []
    stats = decode.stats()
    assert stats["sparkplug_unmapped_metrics"] == {"oil_level": 1}
    assert stats["sparkplug_seq_gaps"] == {}


def test_metric_timestamps_split_a_message_into_readings() -> None:
    decode = decoder()
    born(decode)
    earlier = NOW - timedelta(seconds=30)
    payload = Payload(to_ms(NOW), (Metric(None, 1, DataType.DOUBLE, 20.0, to_ms(earlier)),
                                   Metric(None, 1, DataType.DOUBLE, 21.0)), 2)
    readings = send(decode, MessageType.DDATA, payload).readings
    assert [(r.at, r.metrics) for r in readings] == [(earlier, {"flow_m3h": 20.0}), (NOW, {"flow_m3h": 21.0})]


def test_a_seq_gap_keeps_the_data_and_requests_one_rebirth() -> None:
    decode = decoder()
    born(decode)
    first = send(decode, MessageType.DDATA, data_payload([(1, DataType.DOUBLE, 5.0)], 5, NOW))
    assert first.readings[0].metrics == {"flow_m3h": 5.0}
    assert [topic for topic, _ in first.reply] == [REBIRTH_TOPIC]
    (_, command), = first.reply
    assert decode_payload(command).metrics[0] == Metric("Node Control/Rebirth", None, DataType.BOOLEAN, True)
    second = send(decode, MessageType.DDATA, data_payload([(1, DataType.DOUBLE, 6.0)], 9, NOW))
    assert second.reply == []  # asked already; the NBIRTH that answers starts over
    assert decode.stats()["sparkplug_seq_gaps"] == {"plant/gw1": 2}
    born(decode)
    assert [t for t, _ in send(decode, MessageType.DDATA, data_payload([], 7, NOW)).reply] == [REBIRTH_TOPIC]


def test_seq_wraps_after_255() -> None:
    decode = decoder()
    send(decode, MessageType.NBIRTH, birth_payload([], 254, NOW, bd_seq=0))
    send(decode, MessageType.DBIRTH, birth_payload(PUMP_BIRTH, 255, NOW))
    assert send(decode, MessageType.DDATA, data_payload([(1, DataType.DOUBLE, 1.0)], 0, NOW)).reply == []


def test_data_before_a_birth_is_rejected_and_asks_for_a_rebirth() -> None:
    decode = decoder()
    with pytest.raises(SparkplugRejected) as caught:
        send(decode, MessageType.DDATA, data_payload([(1, DataType.DOUBLE, 1.0)], 4, NOW))
    assert caught.value.reason == RejectReason.NO_BIRTH
    assert [topic for topic, _ in caught.value.reply] == [REBIRTH_TOPIC]
    send(decode, MessageType.NBIRTH, birth_payload([], 0, NOW, bd_seq=1))
    with pytest.raises(SparkplugRejected) as caught:
        send(decode, MessageType.DDATA, data_payload([(1, DataType.DOUBLE, 1.0)], 1, NOW))
    assert caught.value.reason == RejectReason.NO_BIRTH


def test_an_undefined_alias_an_unknown_device_and_a_string_value_are_rejected() -> None:
    decode = decoder()
    born(decode)
    with pytest.raises(InvalidMessage) as caught:
        send(decode, MessageType.DDATA, data_payload([(99, DataType.DOUBLE, 1.0)], 2, NOW))
    assert caught.value.reason == RejectReason.UNKNOWN_ALIAS
    with pytest.raises(InvalidMessage) as caught:
        send(decode, MessageType.DDATA, data_payload([(1, DataType.STRING, "fast")], 3, NOW))
    assert caught.value.reason == RejectReason.WRONG_TYPE
    with pytest.raises(InvalidMessage) as caught:
        send(decode, MessageType.DBIRTH, birth_payload(PUMP_BIRTH, 4, NOW), device="p9")
    assert caught.value.reason == RejectReason.UNKNOWN_ASSET
    with pytest.raises(InvalidMessage) as caught:
        send(decode, MessageType.DDATA, data_payload([(1, DataType.DOUBLE, 9000.0)], 5, NOW))
    assert caught.value.reason == RejectReason.OUT_OF_RANGE


def test_deaths_mark_devices_offline_and_a_stale_node_death_is_ignored() -> None:
    decode = decoder()
    born(decode)
    assert send(decode, MessageType.DDEATH, device_death_payload(2, NOW)).status == ("p1", "offline")
    send(decode, MessageType.DBIRTH, birth_payload(PUMP_BIRTH, 3, NOW))
    assert send(decode, MessageType.NDEATH, death_payload(2)).statuses == []  # an older session's will
    assert send(decode, MessageType.NDEATH, death_payload(3)).statuses == [("p1", "offline")]
    with pytest.raises(SparkplugRejected):
        send(decode, MessageType.DDATA, data_payload([(1, DataType.DOUBLE, 1.0)], 4, NOW))


@pytest.mark.parametrize(("payload_ms", "metric_ms"), [(2**63, None), (to_ms(NOW), 2**62), (to_ms(NOW), 2**64 - 1)])
def test_a_timestamp_out_of_range_is_a_bad_timestamp(payload_ms: int, metric_ms: int | None) -> None:
    decode = decoder()
    born(decode)
    with pytest.raises(InvalidMessage) as caught:
        send(decode, MessageType.DDATA, Payload(payload_ms, (Metric(None, 1, DataType.DOUBLE, 2.0, metric_ms),), 2))
    assert caught.value.reason == RejectReason.BAD_TIMESTAMP


def test_commands_and_host_state_are_not_telemetry() -> None:
    decode = decoder()
    result = decode.decode("spBv1.0/plant/NCMD/gw1", encode_payload(Payload(None, ())))
    assert (list(result.readings), result.status, list(result.reply)) == ([], None, [])


_KINDS = st.sampled_from(list(MessageType))
_NAMES = st.sampled_from(["flow_m3h", "Hydraulics/flow_m3h", "running", "starts", "bdSeq", "Properties/x", "floor"])
_VALUES = st.one_of(st.none(), st.booleans(), st.floats(), st.integers(-2**63, 2**64 - 1), st.text(max_size=3))
_STREAM_METRICS = st.one_of(
    _METRICS,
    st.builds(lambda name, alias, datatype, value, at: Metric(name, alias, datatype, _fit(datatype, value), at),
              st.none() | _NAMES, st.none() | st.integers(0, 8), st.sampled_from(list(DataType)), _VALUES,
              st.none() | st.integers(0, 2**64 - 1) | st.sampled_from([0, 2**62, 2**64 - 1])),
)


def _fit(datatype: DataType, value: object) -> object:
    """A value the encoder can write for ``datatype`` (the stream test wants well-formed payloads)."""
    if datatype in (DataType.FLOAT, DataType.DOUBLE):
        return float(value) if isinstance(value, int | float) and abs(value) < 1e300 else 1.5
    if datatype is DataType.BOOLEAN:
        return bool(value)
    if datatype in (DataType.STRING, DataType.TEXT, DataType.UUID):
        return str(value)
    if datatype in (DataType.BYTES, DataType.FILE):
        return b"x"
    if datatype in (DataType.DATASET, DataType.TEMPLATE, DataType.UNKNOWN):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**32 else 7


@settings(max_examples=300)
@given(st.lists(st.tuples(_KINDS, st.lists(_STREAM_METRICS, max_size=4).map(tuple), st.none() | st.integers(0, 255),
                          st.sampled_from(["p1", "p9"])), max_size=12),
       st.binary(max_size=100), st.sampled_from([None, to_ms(NOW), 0, 2**64 - 1]))
def test_no_sparkplug_stream_escapes_the_dead_letter_path(
        messages: list[tuple[MessageType, tuple[Metric, ...], int | None, str]], junk: bytes,
        stamp: int | None) -> None:
    for births_required in (True, False):  # live, and as dead-letter reprocessing reads them
        decode = Decoder(Registry(), TimeLimits(timedelta(days=1), timedelta(minutes=5)), 8192, ManualClock(NOW),
                         sparkplug_births_required=births_required)
        _stream(decode, messages, junk, stamp)


def _stream(decode: Decoder, messages: list[tuple[MessageType, tuple[Metric, ...], int | None, str]], junk: bytes,
            stamp: int | None) -> None:
    reasons: list[str] = []
    for kind, metrics, seq, device in messages:
        try:
            result = send(decode, kind, Payload(stamp, metrics, seq), device)
        except InvalidMessage as error:
            reasons.append(error.reason)
        else:
            assert all(r.asset_id == "p1" and r.metrics for r in result.readings)
    try:
        decode.decode("spBv1.0/plant/DDATA/gw1/p1", junk)
    except InvalidMessage as error:
        reasons.append(error.reason)
    assert set(reasons) <= REASONS
