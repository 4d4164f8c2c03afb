"""Health and remaining life agree, or the forecast says why not (issue 12 §8)."""

from __future__ import annotations

from datetime import UTC, datetime

from api.schemas import ForecastPublic
from core.domain import Driver, Forecast
from predictor.forecast_notes import life_note

AT = datetime(2026, 1, 6, tzinfo=UTC)
VIBRATION = Driver("vibration_mm_s.level", 79.0, "vibration 6.09 mm/s, 79 % of the way to the limit 7.1")


def _forecast(health: float, rul_days: float | None, **details: float) -> Forecast:
    return Forecast("pump-1", AT, health, rul_days, VIBRATION.feature, "prior-pump", details=dict(details),
                    drivers=(VIBRATION,), usage_unit="h")


def test_worn_but_young_names_the_condition_and_its_trend() -> None:
    note = life_note(_forecast(21.0, 5390.0, **{"trend_rul_days.vibration_mm_s": 38.4}))
    assert "health 21 is the condition now (vibration 6.09 mm/s" in note
    assert "5390 days is prior-pump's judgement of age and use" in note
    assert note.endswith("vibration_mm_s reaches its limit in 38 days")


def test_worn_without_a_trend_says_inspect() -> None:
    assert life_note(_forecast(21.0, 5390.0)).endswith("inspect it rather than wait for that date")


def test_healthy_but_used_up_points_at_the_meter() -> None:
    note = life_note(_forecast(99.0, 38.0, meter_value=41_000.0))
    assert note == ("health 99 sees no worn indicator; the remaining life of 38 days is prior-pump's judgement "
                    "of age and use (41,000 h on the meter)")


def test_agreeing_and_failing_forecasts_need_no_note() -> None:
    assert life_note(_forecast(60.0, 400.0)) == ""
    assert life_note(_forecast(0.0, 0.0)) == ""


def test_no_life_estimate_is_said() -> None:
    assert "no remaining-life estimate" in life_note(_forecast(99.0, None))


def test_the_api_carries_the_note() -> None:
    assert ForecastPublic.of(_forecast(21.0, 5390.0)).life_note.startswith("health 21 is the condition now")
    assert ForecastPublic.of(_forecast(60.0, 400.0)).life_note == ""
