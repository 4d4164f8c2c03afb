"""Tests for predictor.service.Predictor: on in-memory fakes, then on the real SQLite stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.clock import ManualClock
from core.domain import Asset, AssetKind, ModelRecord, Reading, Site
from core.events import Event, EventBus
from predictor.priors import PRIORS
from predictor.rul import RulModel, UnitSeries
from predictor.service import FORECAST_TOPIC, Predictor, forecast_json
from predictor.telemetry_features import FEATURE_NAMES
from storage.records import Database
from storage.sqlite_telemetry import SqliteTelemetryStore

AT = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
PUMP = Asset("pump-1", "site-a", AssetKind.PUMP, "Booster pump 1")
ELEVATOR = Asset("lift-1", "site-a", AssetKind.ELEVATOR, "Lift A")
LIGHTS = Asset("light-1", "site-a", AssetKind.LIGHTING, "Car park lights")


def readings(asset: Asset, metric: str, span: timedelta, step: timedelta, now_value: float,
             per_day: float) -> list[Reading]:
    """``metric`` drifting ``per_day`` to ``now_value`` at AT, sampled every ``step`` over ``span``."""
    out = []
    for i in range(int(span / step)):
        at = AT - span + i * step
        value = now_value + per_day * (at - AT).total_seconds() / 86_400
        out.append(Reading(asset.site_id, asset.kind, asset.id, at, {metric: value}))
    return out


def collect(bus: EventBus) -> list[Event]:
    events: list[Event] = []
    bus.subscribe(events.append, prefix="forecast.")
    return events


def predictor(store: Any, db: Any, bus: EventBus | None = None, **kwargs: Any) -> Predictor:
    return Predictor(store, db, bus or EventBus(), ManualClock(AT), **kwargs)


def pump_model_record(blob: bytes | None = None) -> ModelRecord:
    """A tiny learned pump model on the vibration features (any fit will do: the service only has to use it)."""
    names = FEATURE_NAMES[AssetKind.PUMP][:2]
    rng = np.random.default_rng(0)
    units = [UnitSeries(f"u{i}", np.arange(30.0), rng.normal(size=(30, len(names)))) for i in range(4)]
    model = RulModel(names, random_state=0, max_iter=10, min_samples_leaf=5).fit(units)
    return ModelRecord("rul-pump", 3, AT, AT, AT, {}, "skops", blob or model.to_bytes(), True, 1)


def test_run_once_forecasts_assets_with_data_and_counts_the_rest(fake_store: Any, fake_db: Any) -> None:
    fake_db.assets.assets = [PUMP, ELEVATOR]
    fake_store.write(readings(PUMP, "vibration_mm_s", timedelta(days=10), timedelta(hours=1), 4.3, 0.1))
    fake_store.write(readings(PUMP, "run_hours", timedelta(days=10), timedelta(hours=1), 5_000.0, 24.0))
    bus = EventBus()
    events = collect(bus)
    service = predictor(fake_store, fake_db, bus)

    [forecast] = service.run_once()

    assert fake_db.forecasts.stored == [forecast]
    assert (forecast.asset_id, forecast.at, forecast.model) == ("pump-1", AT, "prior-pump")
    assert forecast.details["history_days"] == 10.0  # whole days only: the 10th day ended at midnight
    assert forecast.driver == "vibration_mm_s.mean"
    assert 0 < forecast.health < 100
    assert forecast.usage_unit == "h"
    assert forecast.rul_p50_usage == pytest.approx(24.0 * forecast.rul_days)
    assert (service.stats.runs, service.stats.forecasts, service.stats.skipped, service.stats.failed) == (1, 1, 1, 0)
    assert [e.topic for e in events] == [FORECAST_TOPIC]
    assert events[0].data == {**forecast_json(forecast), "site_id": "site-a"}
    assert events[0].data["drivers"][0]["feature"] == "vibration_mm_s.mean"


def test_an_asset_with_only_todays_data_is_read_up_to_now(fake_store: Any, fake_db: Any) -> None:
    fake_db.assets.assets = [LIGHTS]
    fake_store.write(readings(LIGHTS, "driver_temp_c", timedelta(hours=6), timedelta(minutes=10), 60.0, 0.0))
    [forecast] = predictor(fake_store, fake_db).run_once()
    assert forecast.details["history_days"] == 1.0
    assert forecast.model == "prior-lighting"


def test_one_broken_asset_does_not_stop_the_run(fake_store: Any, fake_db: Any,
                                                caplog: pytest.LogCaptureFixture) -> None:
    broken = Asset("pump-bad", "site-a", AssetKind.PUMP, "Broken")
    fake_db.assets.assets = [broken, LIGHTS]
    fake_store.failing_assets.add("pump-bad")
    fake_store.write(readings(LIGHTS, "burn_hours", timedelta(days=3), timedelta(hours=1), 50_000.0, 12.0))
    service = predictor(fake_store, fake_db)
    [forecast] = service.run_once()
    assert forecast.asset_id == "light-1"
    assert forecast.driver == "burn_hours.value"
    # The burn hours' penalty is the share of LED drivers failed by that use under the lighting prior.
    used = forecast.details["current.burn_hours.value"]
    assert forecast.health == pytest.approx(100.0 * PRIORS[AssetKind.LIGHTING].survival(used), abs=0.1)
    assert service.stats.failed == 1
    assert "pump-bad" in caplog.text


def test_an_active_model_is_used_once_the_asset_has_enough_history(fake_store: Any, fake_db: Any) -> None:
    fake_db.assets.assets = [PUMP]
    fake_db.models.records["rul-pump"] = pump_model_record()
    fake_store.write(readings(PUMP, "vibration_mm_s", timedelta(days=10), timedelta(hours=1), 4.3, 0.1))
    service = predictor(fake_store, fake_db)
    [forecast] = service.run_once()
    assert (forecast.model, forecast.model_version) == ("rul-pump", "3")
    assert service.stats.learned == 1
    [short] = predictor(fake_store, fake_db, min_history_days=20).run_once()
    assert short.model == "prior-pump"  # 10 days of history are not enough for min_history_days=20


def test_a_model_that_does_not_load_falls_back_to_the_prior(fake_store: Any, fake_db: Any,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    fake_db.assets.assets = [PUMP]
    fake_db.models.records["rul-pump"] = pump_model_record(blob=b"not a model")
    fake_store.write(readings(PUMP, "vibration_mm_s", timedelta(days=10), timedelta(hours=1), 4.3, 0.1))
    [forecast] = predictor(fake_store, fake_db).run_once()
    assert forecast.model == "prior-pump"
    assert "does not load" in caplog.text


def test_min_history_days_below_one_is_refused(fake_store: Any, fake_db: Any) -> None:
    with pytest.raises(ValueError, match="min_history_days"):
        predictor(fake_store, fake_db, min_history_days=0)


def test_a_drifting_pump_on_real_sqlite_stores_gets_a_stored_forecast_with_drivers(tmp_path: Path) -> None:
    store = SqliteTelemetryStore(tmp_path / "telemetry.sqlite")
    db = Database(f"sqlite:///{tmp_path / 'records.sqlite'}")
    try:
        db.upgrade()
        db.assets.upsert_site(Site("site-a", "Site A"))
        for asset in (PUMP, ELEVATOR):
            db.assets.upsert_asset(asset)
        store.write(readings(PUMP, "vibration_mm_s", timedelta(days=20), timedelta(minutes=10), 6.2, 0.05))
        service = Predictor(store, db, EventBus(), ManualClock(AT))

        service.run_once()

        [stored] = db.forecasts.latest("pump-1")
        assert stored.at == AT
        assert stored.model == "prior-pump"
        assert stored.drivers[0].feature == "vibration_mm_s.mean"
        assert "rising 0.35 mm/s per week" in stored.drivers[0].text
        assert stored.health == pytest.approx(100 - 100 * (6.2 - 0.05 * 0.5 - 2.3) / 4.8, abs=1.0)
        assert stored.details["trend_rul_days.vibration_mm_s"] == pytest.approx(18.0, rel=0.1)
        assert db.forecasts.latest("lift-1") == []
        assert service.stats.skipped == 1
    finally:
        db.dispose()
        store.close()
