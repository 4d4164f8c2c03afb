"""Injected malformed payloads: each is rejected by the wire decoder or the catalogue, for its reason."""

from __future__ import annotations

import pytest

from core.catalogue import metric_spec
from core.domain import AssetKind
from core.errors import InvalidMessage, RejectReason
from core.wire import TopicAddress, decode_reading
from simulators.malformed import DEFECTS, malformed_payload
from tests.simulators.helpers import MONDAY


def rejection(kind: AssetKind, payload: bytes) -> str:
    """The reason a receiver gives: the decoder's, or the catalogue check's (unknown / out of range)."""
    try:
        reading = decode_reading(TopicAddress("s1", kind, "a1", "telemetry"), payload)
    except InvalidMessage as error:
        return error.reason
    for name, value in reading.metrics.items():
        spec = metric_spec(kind, name)
        if spec is None:
            return RejectReason.UNKNOWN_METRIC
        if not spec.is_plausible(float(value)):
            return RejectReason.OUT_OF_RANGE
    return "accepted"


@pytest.mark.parametrize("kind", list(AssetKind))
def test_every_defect_is_rejected_for_its_own_reason(kind: AssetKind) -> None:
    reasons = [rejection(kind, malformed_payload(index, kind, MONDAY)[1]) for index in range(len(DEFECTS))]
    assert reasons == [RejectReason.INVALID_JSON, RejectReason.INVALID_UTF8, RejectReason.NOT_FINITE,
                       RejectReason.OUT_OF_RANGE, RejectReason.UNKNOWN_METRIC]


def test_defects_cycle() -> None:
    assert [malformed_payload(index, AssetKind.PUMP, MONDAY)[0] for index in range(7)] == [*DEFECTS, *DEFECTS[:2]]
