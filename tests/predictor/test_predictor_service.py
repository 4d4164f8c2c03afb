"""Tests for predictor.service.Predictor: on in-memory fakes, then on the real SQLite stores."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.clock import ManualClock
from core.domain import Asset, AssetKind, Reading, Site
from core.events import Event, EventBus
from predictor.service import FINE, FORECAST_TOPIC, HOURLY, Predictor, forecast_json
from storage.records import Database
from storage.sqlite_telemetry import SqliteTelemetryStore

AT = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
PUMP = Asset("pump-1", "site-a", AssetKind.PUMP, "Booster pump 1")
ELEVATOR = Asset("lift-1", "site-a", AssetKind.ELEVATOR, "Lift A")
LIGHTS = Asset("light-1", "site-a", AssetKind.LIGHTING, "Car park lights")


def readings(asset: Asset, metric: str, span: timedelta, step: timedelta, now_value: float,
             per_day: float, noise: float = 0.0) -> list[Reading]:
    """``metric`` drifting ``per_day`` to ``now_value`` at AT, sampled every ``step`` over ``span``."""
    rng = np.random.default_rng(7)
    out = []
    for i in range(int(span / step)):
        at = AT - span + i * step
        value = now_value + per_day * (at - AT).total_seconds() / 86_400 + noise * rng.normal()
        out.append(Reading(asset.site_id, asset.kind, asset.id, at, {metric: value}))
    return out


def collect(bus: EventBus) -> list[Event]:
    events: list[Event] = []
    bus.subscribe(events.append, prefix="forecast.")
    return events


def predictor(store: Any, db: Any, bus: EventBus | None = None, **kwargs: Any) -> Predictor:
    return Predictor(store, db, bus or EventBus(), ManualClock(AT), **kwargs)


def test_run_once_forecasts_assets_with_data_and_counts_the_rest(fake_store: Any, fake_db: Any) -> None:
    fake_db.assets.assets = [PUMP, ELEVATOR]
    fake_store.write(readings(PUMP, "vibration_mm_s", timedelta(days=10), timedelta(minutes=10), 4.3, 0.1))
    fake_store.write(readings(PUMP, "run_hours", timedelta(days=10), timedelta(hours=1), 5_000.0, 24.0))
    bus = EventBus()
    events = collect(bus)
    service = predictor(fake_store, fake_db, bus)

    forecasts = service.run_once()

    assert [f.asset_id for f in forecasts] == ["pump-1"]
    assert fake_db.forecasts.stored == forecasts
    forecast = forecasts[0]
    assert forecast.driver == "vibration_mm_s"
    assert forecast.health == pytest.approx(1 - (4.3 - 2.3) / 4.8, abs=0.01)
    assert forecast.rul_days == pytest.approx(28.0, rel=0.05)
    assert forecast.details["rul_days.run_hours"] == pytest.approx(35_000 / 24, rel=0.01)
    assert forecast.details["resolution_min.vibration_mm_s"] == 60.0
    assert (service.stats.runs, service.stats.forecasts, service.stats.skipped, service.stats.failed) == (1, 1, 1, 0)
    assert [e.topic for e in events] == [FORECAST_TOPIC]
    assert events[0].data == {**forecast_json(forecast), "site_id": "site-a"}
    json.dumps(events[0].data, allow_nan=False)


def test_few_hourly_points_fall_back_to_ten_minute_means(fake_store: Any, fake_db: Any) -> None:
    # Two hours of clock time (the accelerated demo's first minutes): 2 hourly means, 12 ten-minute ones.
    fake_db.assets.assets = [PUMP]
    fake_store.write(readings(PUMP, "vibration_mm_s", timedelta(hours=2), timedelta(minutes=1), 3.5, 24.0))
    [forecast] = predictor(fake_store, fake_db).run_once()
    assert forecast.details["resolution_min.vibration_mm_s"] == 10.0
    assert forecast.details["points.vibration_mm_s"] == 12.0
    assert forecast.rul_days == pytest.approx(3.6 / 24.0, rel=0.05)  # 1 mm/s per hour, 3.6 mm/s to go
    windows = [w for asset, metric, w, _ in fake_store.queries if metric == "vibration_mm_s"]
    assert windows == [HOURLY, FINE]


def test_enough_hourly_points_need_no_fallback(fake_store: Any, fake_db: Any) -> None:
    fake_db.assets.assets = [PUMP]
    fake_store.write(readings(PUMP, "vibration_mm_s", timedelta(hours=5), timedelta(minutes=1), 3.0, 1.0))
    [forecast] = predictor(fake_store, fake_db).run_once()
    assert forecast.details["resolution_min.vibration_mm_s"] == 60.0
    assert [w for _, m, w, _ in fake_store.queries if m == "vibration_mm_s"] == [HOURLY]


def test_asset_with_fewer_than_min_points_even_at_ten_minutes_is_skipped(fake_store: Any, fake_db: Any) -> None:
    fake_db.assets.assets = [PUMP]
    fake_store.write(readings(PUMP, "vibration_mm_s", timedelta(minutes=20), timedelta(minutes=1), 3.0, 1.0))
    service = predictor(fake_store, fake_db)
    assert service.run_once() == []
    assert service.stats.skipped == 1
    assert fake_db.forecasts.stored == []


def test_one_broken_asset_does_not_stop_the_run(fake_store: Any, fake_db: Any,
                                                caplog: pytest.LogCaptureFixture) -> None:
    broken = Asset("pump-bad", "site-a", AssetKind.PUMP, "Broken")
    fake_db.assets.assets = [broken, LIGHTS]
    fake_store.failing_assets.add("pump-bad")
    fake_store.write(readings(LIGHTS, "burn_hours", timedelta(days=3), timedelta(hours=1), 25_000.0, 12.0))
    service = predictor(fake_store, fake_db)
    [forecast] = service.run_once()
    assert forecast.asset_id == "light-1"
    assert forecast.driver == "burn_hours"
    assert forecast.health == pytest.approx(0.5, abs=1e-3)
    assert forecast.rul_days == pytest.approx(25_000 / 12, rel=0.01)
    assert service.stats.failed == 1
    assert "pump-bad" in caplog.text


def test_min_points_below_two_is_refused(fake_store: Any, fake_db: Any) -> None:
    with pytest.raises(ValueError, match="min_points"):
        predictor(fake_store, fake_db, min_points=1)


def test_drifting_pump_on_real_sqlite_stores_gets_a_forecast_close_to_the_truth(tmp_path: Path) -> None:
    store = SqliteTelemetryStore(tmp_path / "telemetry.sqlite")
    db = Database(f"sqlite:///{tmp_path / 'records.sqlite'}")
    try:
        db.upgrade()
        db.assets.upsert_site(Site("site-a", "Site A"))
        for asset in (PUMP, ELEVATOR):
            db.assets.upsert_asset(asset)
        # 20 days of vibration rising 0.1 mm/s per day to 4.3 mm/s now: 28 days to 7.1 mm/s.
        store.write(readings(PUMP, "vibration_mm_s", timedelta(days=20), timedelta(minutes=10), 4.3, 0.1,
                             noise=0.1))
        bus = EventBus()
        events = collect(bus)
        service = Predictor(store, db, bus, ManualClock(AT))

        service.run_once()

        [stored] = db.forecasts.latest("pump-1")
        assert stored.at == AT
        assert stored.model == "trend-v1"
        assert stored.driver == "vibration_mm_s"
        assert 0.0 < stored.health < 1.0
        assert stored.rul_days is not None
        assert stored.rul_days == pytest.approx(28.0, rel=0.1)
        assert db.forecasts.latest("lift-1") == []
        assert service.stats.skipped == 1
        assert [e.data["asset_id"] for e in events] == ["pump-1"]
        assert events[0].data["rul_days"] == pytest.approx(stored.rul_days)
    finally:
        db.dispose()
        store.close()
