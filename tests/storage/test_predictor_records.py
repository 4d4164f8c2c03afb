"""Forecasts with quantiles and drivers, and versioned predictor models, on real SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.domain import Driver, Forecast, ModelRecord
from core.errors import NotFound
from storage.records import Database

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def full_forecast(asset: str, hours: float) -> Forecast:
    return Forecast(asset, T0 + timedelta(hours=hours), 42.5, 30.0, "vibration_mm_s.mean", "rul-pump",
                    {"history_days": 14.0}, rul_p10_days=12.0, rul_p90_days=61.0, usage_unit="h",
                    rul_p10_usage=288.0, rul_p50_usage=720.0, rul_p90_usage=1464.0, p_fail_30d=0.5, p_fail_90d=0.95,
                    drivers=(Driver("vibration_mm_s.mean", 57.5, "vibration 5.1 mm/s, 58 % of the way ..."),
                             Driver("bearing_temp_c.mean", 20.0, "bearing temperature 69 degC ...")),
                    model_version="7")


def record(name: str = "rul-pump", active: bool = True, blob: bytes = b"\x00model") -> ModelRecord:
    return ModelRecord(name, 0, T0, T0 - timedelta(days=730), T0, {"rmse": 11.5, "coverage_p10_p90": 0.81},
                       "skops", blob, active)


def test_a_forecast_keeps_every_field_through_the_database(db: Database) -> None:
    forecast = full_forecast("p1", 0)
    db.forecasts.add(forecast)
    assert db.forecasts.latest("p1") == [forecast]
    assert db.forecasts.history("p1") == [forecast]


def test_forecasts_with_intervals_are_the_first_of_each_asset_and_utc_day(db: Database) -> None:
    # T0 is 08:00 UTC: hours 1 and 3 fall on day 0, 15.5 (23:30) too, 16.5 (00:30) on day 1; 40 is outside.
    for hours in (3, 1, 15.5, 16.5, 40):
        db.forecasts.add(full_forecast("p1", hours))
    db.forecasts.add(full_forecast("p2", 3))
    db.forecasts.add(Forecast("p3", T0 + timedelta(hours=2), 90.0, None, "", "prior-pump"))  # no interval
    found = db.forecasts.with_intervals(T0, T0 + timedelta(hours=40))
    assert [(f.asset_id, f.at) for f in found] == [
        ("p1", T0 + timedelta(hours=1)), ("p2", T0 + timedelta(hours=3)), ("p1", T0 + timedelta(hours=16.5))]


def test_models_are_versioned_per_name_and_the_newest_added_is_active(db: Database) -> None:
    first = db.models.add(record())
    second = db.models.add(record(blob=b"\x01" * 100_000))
    other = db.models.add(record("rul-elevator"))
    assert (first.version, second.version, other.version) == (1, 2, 1)
    active = db.models.active("rul-pump")
    assert active is not None
    assert active.version == 2
    assert active.blob == b"\x01" * 100_000
    assert active.metrics == {"rmse": 11.5, "coverage_p10_p90": 0.81}
    assert (active.window_start, active.window_end, active.format) == (T0 - timedelta(days=730), T0, "skops")
    assert [(m.name, m.version, m.active) for m in db.models.list()] == [
        ("rul-elevator", 1, True), ("rul-pump", 1, False), ("rul-pump", 2, True)]


def test_activate_rolls_back_to_an_older_version_and_an_inactive_add_changes_nothing(db: Database) -> None:
    db.models.add(record())
    db.models.add(record())
    assert db.models.activate("rul-pump", 1).active
    assert db.models.active("rul-pump").version == 1  # type: ignore[union-attr]
    candidate = db.models.add(record(active=False))
    assert candidate.version == 3
    assert not candidate.active
    assert db.models.active("rul-pump").version == 1  # type: ignore[union-attr]
    assert [m.active for m in db.models.list("rul-pump")] == [True, False, False]
    with pytest.raises(NotFound):
        db.models.activate("rul-pump", 9)
    assert db.models.active("rul-lighting") is None
