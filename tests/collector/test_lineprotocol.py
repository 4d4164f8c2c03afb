"""core.lineprotocol: encoding readings for InfluxDB and parsing device line protocol (``lp`` channel)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain import AssetKind, Reading
from core.errors import FacmonError, InvalidMessage, RejectReason
from core.lineprotocol import encode_reading, encode_readings, parse_lines, to_ms
from core.wire import TopicAddress

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
ADDRESS = TopicAddress("s1", AssetKind.PUMP, "p1", "lp")


def test_encoding_writes_floats_booleans_and_ms_timestamps() -> None:
    reading = Reading("s,1", AssetKind.PUMP, "p 1", T0, {"starts": 3, "running": True, "flow_m3h": 1e20})
    assert encode_reading(reading) == ("pump,asset=p\\ 1,site=s\\,1 flow_m3h=1e+20,running=true,starts=3.0 "
                                       f"{int(T0.timestamp() * 1000)}")


def test_encoding_leaves_out_readings_without_a_storable_metric() -> None:
    nan = Reading("s1", AssetKind.PUMP, "p1", T0, {"flow_m3h": float("nan")})
    good = Reading("s1", AssetKind.PUMP, "p1", T0, {"flow_m3h": 1.0})
    assert encode_readings([nan, good]) == encode_reading(good)
    with pytest.raises(FacmonError):
        encode_reading(nan)


def test_parse_reads_every_field_type_and_the_ms_timestamp() -> None:
    text = "pump,site=s1,asset=p1,extra=x flow_m3h=31.5,starts=12i,run_hours=7u,running=t,mains_ok=FALSE 1795766400123"
    (reading,) = parse_lines(text, ADDRESS)
    assert reading == Reading("s1", AssetKind.PUMP, "p1", T0 + timedelta(milliseconds=123),
                              {"flow_m3h": 31.5, "starts": 12.0, "run_hours": 7.0, "running": True,
                               "mains_ok": False})


def test_a_quote_in_a_tag_value_is_a_plain_character() -> None:
    # InfluxDB reads double quotes as string delimiters in field values only.
    (reading,) = parse_lines('pump,asset=p1,note=6"_pipe flow_m3h=2.5 1795766400000', ADDRESS)
    assert reading.metrics == {"flow_m3h": 2.5}


def test_parse_takes_the_receive_time_when_a_line_has_no_timestamp_and_skips_comments() -> None:
    readings = parse_lines("# a comment\n\npump flow_m3h=1\r\npump flow_m3h=2 1795766400000\n", ADDRESS,
                           default_at=T0 + timedelta(seconds=5))
    assert [r.at for r in readings] == [T0 + timedelta(seconds=5), T0]
    with pytest.raises(InvalidMessage) as caught:
        parse_lines("pump flow_m3h=1", ADDRESS)
    assert caught.value.reason == RejectReason.BAD_TIMESTAMP


@pytest.mark.parametrize(("precision", "stamp"), [("s", "1795766400"), ("ms", "1795766400000"),
                                                  ("us", "1795766400000000"), ("ns", "1795766400000000000")])
def test_parse_honours_the_precision(precision: str, stamp: str) -> None:
    (reading,) = parse_lines(f"pump flow_m3h=1 {stamp}", ADDRESS, precision)
    assert reading.at == T0


@pytest.mark.parametrize(("text", "reason"), [
    ("", RejectReason.INVALID_LINE_PROTOCOL),
    ("pump", RejectReason.INVALID_LINE_PROTOCOL),
    ("pump flow_m3h= 1", RejectReason.INVALID_LINE_PROTOCOL),
    ("pump flow_m3h=abc 1", RejectReason.INVALID_LINE_PROTOCOL),
    ("pump flow_m3h=1 12.5", RejectReason.BAD_TIMESTAMP),
    ("pump flow_m3h=1 1 2", RejectReason.INVALID_LINE_PROTOCOL),
    ('pump note="broken 1', RejectReason.INVALID_LINE_PROTOCOL),
    ('pump note="a string" 1', RejectReason.WRONG_TYPE),
    ("pump flow_m3h=1e999 1", RejectReason.NOT_FINITE),
    ("pump,asset=p2 flow_m3h=1 1", RejectReason.ASSET_MISMATCH),
    ("pump,site=s2 flow_m3h=1 1", RejectReason.ASSET_MISMATCH),
    ("elevator floor=1 1", RejectReason.ASSET_MISMATCH),
    ("pump,asset flow_m3h=1 1", RejectReason.INVALID_LINE_PROTOCOL),
    ("pump starts=-1u 1", RejectReason.INVALID_LINE_PROTOCOL),
])
def test_parse_rejects_with_a_stable_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidMessage) as caught:
        parse_lines(text, ADDRESS)
    assert caught.value.reason == reason


_IDS = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 ,=._-]{0,15}", fullmatch=True).filter(lambda s: not s.endswith(" "))
_VALUES = st.one_of(st.booleans(), st.floats(allow_nan=False, allow_infinity=False))


@given(site=_IDS, asset=_IDS, metrics=st.dictionaries(_IDS, _VALUES, min_size=1, max_size=5),
       ms=st.integers(-10**12, 10**13))
def test_encode_then_parse_gives_the_reading_back(site: str, asset: str, metrics: dict[str, float | bool],
                                                  ms: int) -> None:
    at = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)
    reading = Reading(site, AssetKind.LIGHTING, asset, at, {k: v if isinstance(v, bool) else float(v)
                                                             for k, v in metrics.items()})
    assert to_ms(at) == ms
    parsed = parse_lines(encode_reading(reading), TopicAddress(site, AssetKind.LIGHTING, asset, "lp"))
    assert parsed == [reading]


@given(st.text(max_size=200))
def test_parse_never_raises_anything_but_invalid_message(text: str) -> None:
    try:
        readings = parse_lines(text, ADDRESS, default_at=T0)
    except InvalidMessage as error:
        reason: str | None = error.reason
    else:
        reason = None
        assert readings
        assert all(r.asset_id == "p1" and r.metrics for r in readings)
    assert reason is None or reason in vars(RejectReason).values()
