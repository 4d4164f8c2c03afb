"""Tests for predictor.priors: the Weibull priors against hand-computed values."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain import AssetKind
from predictor.priors import PRIORS

PUMP, LED, DOOR = PRIORS[AssetKind.PUMP], PRIORS[AssetKind.LIGHTING], PRIORS[AssetKind.ELEVATOR]


def test_pump_prior_is_the_iso_281_l10_with_shape_one_and_a_half() -> None:
    # eta = 25,000 / (-ln 0.9) ** (1 / 1.5) = 25,000 / 0.223075 = 112,070 h
    assert PUMP.eta == pytest.approx(112_069.7, abs=0.1)
    assert PUMP.survival(25_000.0) == pytest.approx(0.90)  # 10 % fail before L10
    assert PUMP.remaining(0.0, 0.10) == pytest.approx(25_000.0)
    # By hand: H(u) = (u / eta) ** 1.5; H(20,000) = 0.075390, H(20,720) = 0.079497; 1 - exp(-0.004107)
    assert PUMP.p_fail(20_000.0, 720.0) == pytest.approx(0.0040990, abs=1e-6)


def test_led_prior_is_capped_by_the_tm21_six_times_rule() -> None:
    # L70 = 6 x 10,000 h LM-80 = 60,000 h as the median: eta = 60,000 / (ln 2) ** (1 / 3) = 67,796.8 h
    assert LED.rated == 6 * 10_000.0
    assert LED.eta == pytest.approx(67_796.84, abs=0.01)
    assert LED.remaining(0.0, 0.5) == pytest.approx(60_000.0)
    # A luminaire at 60,000 h: z = 2 ln 2, so the median remaining is eta (2 ln 2) ** (1 / 3) - 60,000
    assert LED.remaining(60_000.0, 0.5) == pytest.approx(15_595.26, abs=0.01)


def test_door_operator_prior_has_its_median_at_the_rated_cycles() -> None:
    assert DOOR.eta == pytest.approx(2_000_000.0 / math.sqrt(math.log(2)))
    assert DOOR.survival(2_000_000.0) == pytest.approx(0.5)


@given(used=st.floats(0.0, 300_000.0), q=st.floats(0.01, 0.99))
def test_remaining_life_quantile_inverts_the_conditional_survival(used: float, q: float) -> None:
    x = PUMP.remaining(used, q)
    assert x >= 0.0
    assert PUMP.p_fail(used, x) == pytest.approx(q, abs=1e-9)


@given(used=st.floats(0.0, 300_000.0))
def test_quantiles_are_ordered_and_wear_out_shortens_them(used: float) -> None:
    p10, p50, p90 = (PUMP.remaining(used, q) for q in (0.1, 0.5, 0.9))
    assert p10 < p50 < p90
    assert PUMP.remaining(used + 10_000.0, 0.5) < p50  # shape > 1: an older bearing has less life left
