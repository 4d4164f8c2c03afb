"""ISA-18.2 performance figures and chatter detection, pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain import Severity
from rules.kpi import Annunciation, is_chattering, performance

T0 = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)
DAY = T0 + timedelta(days=1)


def ann(minute: float, rule: str = "r", asset: str = "a", severity: Severity = Severity.LOW) -> Annunciation:
    return Annunciation(T0 + timedelta(minutes=minute), rule, asset, severity)


def test_a_quiet_day() -> None:
    figures = performance([], T0, DAY)
    assert figures["alarms"] == 0
    assert figures["intervals"] == 144
    assert figures["per_10min_avg"] == 0
    assert figures["flood_minutes"] == 0
    assert figures["top10_share"] == 0
    assert figures["rating"] == "acceptable"


def test_eleven_alarms_in_ten_minutes_is_a_flood_ten_is_not() -> None:
    ten = [ann(1 + i * 0.5, asset=f"a{i}") for i in range(10)]
    assert performance(ten, T0, DAY)["flood_minutes"] == 0
    figures = performance([*ten, ann(9.5, asset="x")], T0, DAY)
    assert figures["flood_minutes"] == 10
    assert figures["per_10min_max"] == 11
    assert figures["flood_share"] == round(10 / 1440, 4)


def test_top10_share_and_priority_mix() -> None:
    noisy = [ann(i, rule="chatty") for i in range(80)]
    others = [ann(100 + i, rule=f"r{i}", severity=Severity.CRITICAL) for i in range(20)]
    figures = performance(noisy + others, T0, DAY)
    assert figures["top10"][0] == {"rule_id": "chatty", "asset_id": "a", "alarms": 80}
    assert figures["top10_share"] == 0.89  # 80 + 9 of 100
    assert figures["priority_mix"] == {"critical": 0.2, "high": 0.0, "medium": 0.0, "low": 0.8}


def test_annunciations_outside_the_period_are_ignored_and_period_must_be_positive() -> None:
    assert performance([ann(-1), ann(24 * 60)], T0, DAY)["alarms"] == 0
    with pytest.raises(ValueError, match="after"):
        performance([], DAY, T0)


@given(st.lists(st.floats(0, 24 * 60 - 0.01), max_size=200))
def test_figures_are_consistent(minutes: list[float]) -> None:
    figures = performance([ann(m, asset=str(int(m) % 13)) for m in minutes], T0, DAY)
    assert figures["alarms"] == len(minutes)
    assert figures["per_10min_avg"] == round(len(minutes) / 144, 3)
    assert 0 <= figures["flood_share"] <= 1
    assert 0 <= figures["top10_share"] <= 1
    assert figures["per_10min_max"] * 144 >= len(minutes)
    assert (figures["flood_minutes"] > 0) == (figures["per_10min_max"] > 10)
    if minutes:
        assert abs(sum(figures["priority_mix"].values()) - 1) < 1e-3


def test_chatter_is_three_toggles_within_a_minute() -> None:
    at = T0 + timedelta(minutes=5)
    three = [at - timedelta(seconds=s) for s in (50, 20, 0)]
    assert is_chattering(three, at)
    assert not is_chattering(three[1:], at)
    assert not is_chattering([at - timedelta(seconds=60), *three[1:]], at)  # the window is (at-60s, at]
