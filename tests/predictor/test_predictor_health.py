"""Tests for predictor.health: health 0-100 from the newest daily features, drivers in words, trend signals."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain import AssetKind
from predictor.features import WEAR_INDICATORS, Direction, WearIndicator
from predictor.health import MIN_PENALTY, assess, limits, worn_fraction
from predictor.telemetry_features import build_table

DAY0 = date(2026, 3, 2)
VIBRATION = WEAR_INDICATORS[AssetKind.PUMP][0]


def days(n: int) -> list[date]:
    return [DAY0 + timedelta(days=i) for i in range(n)]


@given(value=st.floats(-1e6, 1e6))
def test_worn_fraction_is_0_at_the_baseline_1_at_the_limit_and_clipped(value: float) -> None:
    worn = worn_fraction(VIBRATION, value)
    assert 0.0 <= worn <= 1.0
    assert worn_fraction(VIBRATION, 2.3) == 0.0
    assert worn_fraction(VIBRATION, 7.1) == 1.0


def test_a_falling_indicator_wears_downwards() -> None:
    light = WearIndicator("lumen_output_pct.mean", 70.0, 100.0, direction=Direction.FALLING)
    assert worn_fraction(light, 85.0) == pytest.approx(0.5)


def test_health_is_set_by_the_worst_feature_and_drivers_are_worst_first() -> None:
    d = days(10)
    table = build_table(AssetKind.PUMP, {
        "vibration_mm_s.mean": {day: 2.3 + 0.1 * i for i, day in enumerate(d)},  # 3.2: 19 %
        "bearing_temp_c.mean": dict.fromkeys(d, 80.0),  # 75 %
        "bearing_temp_c.above_ambient": dict.fromkeys(d, 60.0),
        "run_hours.value": dict.fromkeys(d, 1_000.0),  # 2.5 %: no driver
    })
    health = assess(table)
    assert health.score == pytest.approx(25.0)
    assert [driver.feature for driver in health.drivers] == ["bearing_temp_c.mean", "vibration_mm_s.mean"]
    assert health.drivers[0].text == ("bearing temperature 80 degC, 75 % of the way from new (65) to the limit 85 "
                                      "(rule pump_bearing_overtemp 85 degC), 60 K above ambient")
    assert health.drivers[1].text.endswith("rising 0.7 mm/s per week")
    assert all(driver.penalty >= MIN_PENALTY for driver in health.drivers)
    assert health.details["trend_rul_days.vibration_mm_s"] == pytest.approx((7.1 - 3.2) / 0.1, rel=1e-3)


def test_an_empty_table_is_as_new_without_drivers() -> None:
    health = assess(build_table(AssetKind.ELEVATOR, {}))
    assert (health.score, health.drivers) == (100.0, ())


@pytest.mark.parametrize("kind", list(AssetKind))
def test_every_limited_feature_is_a_column_of_the_daily_table(kind: AssetKind) -> None:
    names = build_table(kind, {}).names
    assert {limit.feature for limit in limits(kind)} <= set(names)
