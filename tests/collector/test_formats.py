"""collector.decode.Decoder on the JSON, line-protocol and status channels; collector.sequence."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collector.decode import Decoder
from collector.sequence import SeqOutcome, SeqTracker
from collector.validate import TimeLimits
from core.clock import ManualClock
from core.domain import Asset, AssetKind, Reading
from core.errors import InvalidMessage, RejectReason

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
REASONS = set(vars(RejectReason).values())
ASSETS = {a.id: a for a in (Asset("p1", "s1", AssetKind.PUMP, "Pump 1"),
                            Asset("l1", "s1", AssetKind.LIGHTING, "Light 1"))}


class Registry:
    def __init__(self, assets: dict[str, Asset]) -> None:
        self.assets = dict(assets)

    def find(self, asset_id: str) -> Asset | None:
        return self.assets.get(asset_id)


def decoder(assets: dict[str, Asset] = ASSETS) -> Decoder:
    return Decoder(Registry(assets), TimeLimits(late=timedelta(days=1), future=timedelta(minutes=5)), 4096,
                   ManualClock(NOW))


def body(metrics: dict[str, object], at: datetime = NOW, **extra: object) -> bytes:
    return json.dumps({"ts": at.isoformat(), "metrics": metrics, **extra}).encode()


def reject_reason(decode: Decoder, topic: str, payload: bytes) -> str:
    with pytest.raises(InvalidMessage) as caught:
        decode.decode(topic, payload)
    return caught.value.reason


def test_json_telemetry_is_decoded_and_validated() -> None:
    result = decoder().decode("facmon/v1/s1/pump/p1/telemetry", body({"flow_m3h": 30, "running": True}, seq=4))
    assert result.readings == [Reading("s1", AssetKind.PUMP, "p1", NOW, {"flow_m3h": 30.0, "running": True}, 4)]
    assert result.status is None
    assert not result.reply


@pytest.mark.parametrize(("topic", "payload", "reason"), [
    ("facmon/v1/s1/pump/p9/telemetry", body({"flow_m3h": 1}), RejectReason.UNKNOWN_ASSET),
    ("facmon/v1/s2/pump/p1/telemetry", body({"flow_m3h": 1}), RejectReason.ASSET_MISMATCH),
    ("facmon/v1/s1/pump/p1/telemetry", body({"flow_m3h": 1}, asset="p2"), RejectReason.ASSET_MISMATCH),
    ("facmon/v1/s1/pump/p1/telemetry", body({"floor": 1}), RejectReason.UNKNOWN_METRIC),
    ("facmon/v1/s1/pump/p1/telemetry", body({"running": 1}), RejectReason.WRONG_TYPE),
    ("facmon/v1/s1/pump/p1/telemetry", b'{"ts": 1, "metrics": {"flow_m3h": NaN}}', RejectReason.NOT_FINITE),
    ("facmon/v1/s1/pump/p1/telemetry", body({"flow_m3h": 1e9}), RejectReason.OUT_OF_RANGE),
    ("facmon/v1/s1/pump/p1/telemetry", body({"flow_m3h": 1}, NOW + timedelta(hours=1)),
     RejectReason.TOO_FAR_IN_FUTURE),
    ("facmon/v1/s1/pump/p1/telemetry", body({"flow_m3h": 1}, NOW - timedelta(days=2)), RejectReason.TOO_LATE),
    ("facmon/v1/s1/pump/p1/telemetry", b"x" * 5000, RejectReason.PAYLOAD_TOO_LARGE),
    ("facmon/v1/s1/pump/p1/telemetry", b"\xff\xfe", RejectReason.INVALID_UTF8),
    ("facmon/v1/s1/pump/p1/telemetry", b"{nope", RejectReason.INVALID_JSON),
    ("facmon/v1/s1/pump/p1/telemetry", b"[]", RejectReason.BAD_SHAPE),
    ("facmon/v1/s1/pump/p1/telemetry", b'{"ts": "2026-11-27T08:00", "metrics": {"flow_m3h": 1}}',
     RejectReason.BAD_TIMESTAMP),
    ("facmon/v1/s1/pump/p1/other", body({"flow_m3h": 1}), RejectReason.BAD_TOPIC),
    ("facmon/v1/s1/pump/p1/lp", b"pump flow_m3h=5000 1795766400000", RejectReason.OUT_OF_RANGE),
    ("facmon/v1/s1/pump/p1/lp", b"pump,asset=p1 flow_m3h=1 1795766400000\npump flow 1",
     RejectReason.INVALID_LINE_PROTOCOL),
    ("facmon/v1/s1/pump/p1/lp", b"\xc3\x28", RejectReason.INVALID_UTF8),
    ("facmon/v1/s1/pump/p1/status", b"sleeping", RejectReason.BAD_SHAPE),
])
def test_each_bad_message_is_rejected_under_its_reason(topic: str, payload: bytes, reason: str) -> None:
    assert reject_reason(decoder(), topic, payload) == reason


def test_line_protocol_gives_one_reading_per_line_with_the_receive_time_as_default() -> None:
    result = decoder().decode("facmon/v1/s1/pump/p1/lp",
                              b"pump flow_m3h=3 1795766340000\npump,site=s1 running=true,flow_m3h=4i")
    assert result.readings == [
        Reading("s1", AssetKind.PUMP, "p1", NOW - timedelta(minutes=1), {"flow_m3h": 3.0}),
        Reading("s1", AssetKind.PUMP, "p1", NOW, {"running": True, "flow_m3h": 4.0}),
    ]


def test_status_messages_report_the_change() -> None:
    result = decoder().decode("facmon/v1/s1/pump/p1/status", b"offline")
    assert result.status == ("p1", "offline")
    assert not result.readings


def test_a_rejection_is_reprocessable_after_the_asset_is_registered() -> None:
    registry = Registry({})
    decode = Decoder(registry, TimeLimits(timedelta(days=1), timedelta(minutes=5)), 4096, ManualClock(NOW))
    message = ("facmon/v1/s1/pump/p1/telemetry", body({"flow_m3h": 1}))
    assert reject_reason(decode, *message) == RejectReason.UNKNOWN_ASSET
    registry.assets["p1"] = ASSETS["p1"]
    # judged against the time it was first received, not the time it is reprocessed
    assert decode.decode(*message, received_at=NOW).readings[0].metrics == {"flow_m3h": 1.0}


def test_json_seq_gaps_and_duplicates_are_counted_per_device() -> None:
    decode = decoder()
    for seq in (1, 2, 2, 5, 6, 4):
        decode.decode("facmon/v1/s1/pump/p1/telemetry", body({"flow_m3h": 1}, seq=seq))
    decode.decode("facmon/v1/s1/lighting/l1/telemetry", body({"on": True}, seq=9))
    stats = decode.stats()
    assert stats["seq_gaps"] == {"p1": 1}
    assert stats["seq_missing"] == {"p1": 2}
    assert stats["seq_duplicates"] == {"p1": 1}
    assert stats["seq_late"] == {"p1": 1}


def test_seq_tracker_outcomes() -> None:
    tracker = SeqTracker()
    outcomes = [tracker.observe("d", seq) for seq in (10, 11, 11, 14, 12, 12, 5000, 1, 2)]
    assert outcomes == [SeqOutcome.FIRST, SeqOutcome.IN_ORDER, SeqOutcome.DUPLICATE, SeqOutcome.GAP,
                        SeqOutcome.LATE, SeqOutcome.DUPLICATE, SeqOutcome.GAP, SeqOutcome.RESET,
                        SeqOutcome.IN_ORDER]
    assert tracker.stats()["seq_resets"] == {"d": 1}


@given(st.lists(st.integers(0, 2000), max_size=60))
def test_seq_tracker_counts_every_missing_number_of_an_increasing_stream(seqs: list[int]) -> None:
    stream = sorted(set(seqs))
    tracker = SeqTracker()
    for seq in stream:
        tracker.observe("d", seq)
    expected = (stream[-1] - stream[0] + 1 - len(stream)) if stream else 0
    assert tracker.missing["d"] == expected
    assert tracker.duplicates["d"] == 0


# -- no input escapes the dead-letter path -----------------------------------------------------------
_TOPICS = st.one_of(
    st.text(max_size=60),
    st.builds(lambda site, kind, asset, channel: f"facmon/v1/{site}/{kind}/{asset}/{channel}",
              st.sampled_from(["s1", "s2", "", "s 1"]), st.sampled_from(["pump", "lighting", "boat"]),
              st.sampled_from(["p1", "l1", "x"]), st.sampled_from(["telemetry", "lp", "status", "cmd"])),
)
_JSON = st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=10),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                                 max_size=4), max_leaves=12)
_JSON_PAYLOADS = st.builds(
    lambda ts, metrics, seq: json.dumps({"ts": ts, "metrics": metrics, "seq": seq}).encode(),
    st.one_of(st.just(NOW.isoformat()), _JSON), st.one_of(
        st.dictionaries(st.sampled_from(["flow_m3h", "running", "on", "power_w", "x"]),
                        st.one_of(st.booleans(), st.floats(), st.integers(-10**20, 10**20)), max_size=3), _JSON),
    _JSON)
_LP_PAYLOADS = st.lists(st.sampled_from(["pump", "lighting", ",", " ", "=", "flow_m3h", "on", "1", "1i",
                                         "t", '"', "\\", "\n", "1795766400000", "asset", "p1", "1e999"]),
                        max_size=20).map(lambda parts: "".join(parts).encode())


@given(_TOPICS, st.one_of(st.binary(max_size=300), _JSON_PAYLOADS, _LP_PAYLOADS))
def test_no_input_escapes_the_dead_letter_path(topic: str, payload: bytes) -> None:
    try:
        result = decoder().decode(topic, payload)
    except InvalidMessage as error:
        reason: str | None = error.reason
    else:
        reason = None
        for reading in result.readings:
            assert reading.asset_id in ASSETS
            assert reading.metrics
        assert result.readings or result.status is not None
    assert reason is None or reason in REASONS


def test_the_decode_benchmark_runs_every_format_on_a_tiny_size() -> None:
    from facmon.bench.decode import bench_decode

    result = bench_decode(50)
    for name in ("json", "lp", "sparkplug"):
        assert result[f"{name}_msgs_per_s"] > 0
        assert result[f"{name}_bytes"] > 0
