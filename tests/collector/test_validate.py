"""Validation of readings against the registry and the catalogue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from collector.validate import TimeLimits, validate
from core.domain import Asset, AssetKind, Reading
from core.errors import InvalidMessage, RejectReason

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
LIMITS = TimeLimits(late=timedelta(days=1), future=timedelta(minutes=5))
PUMP = Asset("p1", "s1", AssetKind.PUMP, "Pump 1")


def reading(metrics: dict[str, float | bool], at: datetime = NOW, asset: str = "p1", site: str = "s1",
            kind: AssetKind = AssetKind.PUMP) -> Reading:
    return Reading(site, kind, asset, at, metrics)


def reason_of(r: Reading, asset: Asset | None = PUMP) -> str:
    with pytest.raises(InvalidMessage) as caught:
        validate(r, asset, NOW, LIMITS)
    return caught.value.reason


def test_plausible_reading_passes() -> None:
    validate(reading({"flow_m3h": 30.0, "running": True, "run_hours": 1200.0}), PUMP, NOW, LIMITS)


def test_values_at_the_range_limits_pass() -> None:
    validate(reading({"vibration_mm_s": 0.0}), PUMP, NOW, LIMITS)
    validate(reading({"vibration_mm_s": 100.0}), PUMP, NOW, LIMITS)


@pytest.mark.parametrize(
    ("r", "asset", "expected"),
    [
        (reading({"flow_m3h": 1.0}), None, RejectReason.UNKNOWN_ASSET),
        (reading({"flow_m3h": 1.0}, site="s2"), PUMP, RejectReason.ASSET_MISMATCH),
        (reading({"flow_m3h": 1.0}, kind=AssetKind.ELEVATOR), PUMP, RejectReason.ASSET_MISMATCH),
        (reading({"door_close_s": 3.0}), PUMP, RejectReason.UNKNOWN_METRIC),
        (reading({"running": 1.0}), PUMP, RejectReason.WRONG_TYPE),
        (reading({"flow_m3h": True}), PUMP, RejectReason.WRONG_TYPE),
        (reading({"vibration_mm_s": 100.01}), PUMP, RejectReason.OUT_OF_RANGE),
        (reading({"bearing_temp_c": -41.0}), PUMP, RejectReason.OUT_OF_RANGE),
        (reading({"flow_m3h": 1.0}, at=NOW + timedelta(minutes=6)), PUMP, RejectReason.TOO_FAR_IN_FUTURE),
        (reading({"flow_m3h": 1.0}, at=NOW - timedelta(days=1, seconds=1)), PUMP, RejectReason.TOO_LATE),
    ],
)
def test_each_defect_is_rejected_with_its_reason(r: Reading, asset: Asset | None, expected: str) -> None:
    assert reason_of(r, asset) == expected


def test_time_limits_are_inclusive() -> None:
    validate(reading({"flow_m3h": 1.0}, at=NOW + LIMITS.future), PUMP, NOW, LIMITS)
    validate(reading({"flow_m3h": 1.0}, at=NOW - LIMITS.late), PUMP, NOW, LIMITS)
