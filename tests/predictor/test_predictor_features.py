"""Tests for predictor.features: the indicator tables."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.catalogue import MetricType, metric_spec
from core.domain import AssetKind
from predictor.features import (
    USAGE_COUNTERS,
    WEAR_INDICATORS,
    Direction,
    WearIndicator,
)

AT = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("kind", list(AssetKind))
def test_every_kind_has_indicators_that_are_catalogue_gauges_and_counters(kind: AssetKind) -> None:
    assert WEAR_INDICATORS[kind]
    assert USAGE_COUNTERS[kind]
    for indicator in WEAR_INDICATORS[kind]:
        spec = metric_spec(kind, indicator.metric)
        assert spec is not None
        assert spec.type is MetricType.GAUGE
        assert spec.is_plausible(indicator.limit)
        assert indicator.source
    for counter in USAGE_COUNTERS[kind]:
        spec = metric_spec(kind, counter.metric)
        assert spec is not None
        assert spec.type is MetricType.COUNTER


def test_limits_match_the_standards_and_rule_pack() -> None:
    limits = {i.metric: i.limit for kind in AssetKind for i in WEAR_INDICATORS[kind]}
    assert limits == {"vibration_mm_s": 7.1, "bearing_temp_c": 85.0, "door_close_s": 8.0, "driver_temp_c": 85.0}
    meters = {c.metric for kind in AssetKind for c in USAGE_COUNTERS[kind]}
    assert meters == {"run_hours", "door_cycles", "burn_hours"}


def test_limit_on_the_wrong_side_of_the_baseline_is_refused() -> None:
    with pytest.raises(ValueError, match="rising"):
        WearIndicator("x", limit=1.0, baseline=2.0)
    falling = WearIndicator("flow", limit=10.0, baseline=30.0, direction=Direction.FALLING)
    assert falling.direction.sign == -1.0
