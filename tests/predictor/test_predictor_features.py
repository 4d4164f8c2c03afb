"""Tests for predictor.features: the indicator tables and history -> feature functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from core.catalogue import MetricType, metric_spec
from core.domain import AssetKind
from predictor.features import (
    USAGE_COUNTERS,
    WEAR_INDICATORS,
    Direction,
    UsageCounter,
    WearIndicator,
    counter_features,
    gauge_features,
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
    rated = {c.metric: c.rated for kind in AssetKind for c in USAGE_COUNTERS[kind]}
    assert rated == {"run_hours": 40_000.0, "door_cycles": 2_000_000.0, "burn_hours": 50_000.0}


def test_limit_on_the_wrong_side_of_the_baseline_is_refused() -> None:
    with pytest.raises(ValueError, match="rising"):
        WearIndicator("x", limit=1.0, baseline=2.0)
    falling = WearIndicator("flow", limit=10.0, baseline=30.0, direction=Direction.FALLING)
    assert falling.direction.sign == -1.0
    with pytest.raises(ValueError, match="positive"):
        UsageCounter("run_hours", 0.0)


def test_gauge_features_put_windowed_points_mid_window_and_never_after_at() -> None:
    series = [(AT - timedelta(hours=2), 1.0), (AT - timedelta(hours=1), 2.0), (AT - timedelta(minutes=10), 3.0)]
    features = gauge_features("vibration_mm_s", series, AT, window=timedelta(hours=1))
    assert features is not None
    assert features.t_days.shape == (3, 1)
    hours = features.t_days[:, 0] * 24
    np.testing.assert_allclose(hours, [-1.5, -0.5, 0.0])  # the last window is cut at ``at``
    assert features.current == 3.0
    assert features.n_points == 3


def test_gauge_features_of_raw_points_keep_their_times() -> None:
    series = [(AT - timedelta(days=2), 1.0), (AT - timedelta(days=1), 2.0)]
    features = gauge_features("m", series, AT)
    assert features is not None
    np.testing.assert_allclose(features.t_days[:, 0], [-2.0, -1.0])
    assert gauge_features("m", [], AT) is None


def test_counter_rate_is_use_per_day_and_ignores_resets() -> None:
    hourly = [(AT - timedelta(hours=48 - h), 1000.0 + h) for h in range(49)]
    features = counter_features("run_hours", hourly)
    assert features is not None
    assert features.current == 1048.0
    assert features.rate_per_day == pytest.approx(24.0)
    reset = [(AT - timedelta(days=2), 500.0), (AT - timedelta(days=1), 520.0), (AT, 10.0)]
    reset_features = counter_features("run_hours", reset)
    assert reset_features is not None
    assert reset_features.rate_per_day == pytest.approx(10.0)


def test_a_counter_that_stands_still_or_has_one_point_has_no_rate() -> None:
    flat = counter_features("burn_hours", [(AT - timedelta(days=1), 7.0), (AT, 7.0)])
    single = counter_features("burn_hours", [(AT, 7.0)])
    assert flat is not None
    assert flat.rate_per_day is None
    assert single is not None
    assert single.rate_per_day is None
    assert counter_features("burn_hours", []) is None
