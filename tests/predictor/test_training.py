"""Tests for predictor.training: failures from work orders, run-to-failure units, coverage, a stored model."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from core.clock import ManualClock
from core.domain import (
    AssetKind,
    Forecast,
    Site,
    WorkOrder,
    WorkOrderKind,
    WorkOrderPriority,
    WorkOrderStatus,
)
from core.events import EventBus
from predictor.service import Predictor
from predictor.telemetry_features import build_table
from predictor.training import failure_times, observed_coverage, train_all, training_set
from simulators.history import fleet
from storage.records import Database
from storage.sqlite_telemetry import SqliteTelemetryStore
from tests.predictor.simulated import simulate_into

T0 = datetime(2026, 3, 2, tzinfo=UTC)
S = WorkOrderStatus


def order(asset: str, opened: datetime, kind: WorkOrderKind = WorkOrderKind.CORRECTIVE,
          status: WorkOrderStatus = S.CLOSED, code: str | None = "bearing") -> WorkOrder:
    return WorkOrder(1, kind, WorkOrderPriority.URGENT, status, "t", asset, "s", opened, opened, failure_code=code)


def test_failures_are_done_corrective_or_emergency_orders_with_a_failure_code() -> None:
    orders = [order("p1", T0 + timedelta(days=9)), order("p1", T0),
              order("p2", T0, kind=WorkOrderKind.EMERGENCY, status=S.COMPLETED),
              order("p3", T0, kind=WorkOrderKind.PREVENTIVE), order("p4", T0, status=S.IN_PROGRESS),
              order("p5", T0, code=None)]
    assert failure_times(orders) == {"p1": [T0, T0 + timedelta(days=9)], "p2": [T0]}


def test_each_failure_closes_a_unit_labelled_with_days_to_failure() -> None:
    days = [date(2026, 3, 2) + timedelta(days=i) for i in range(10)]
    table = build_table(AssetKind.PUMP, {"vibration_mm_s.mean": {d: float(i) for i, d in enumerate(days)}})
    # failures on day 3 at 12:00 and day 8 at 06:00: units of days 0-2 and 4-7 (day 3 ended after the failure)
    failures = {"p1": [datetime(2026, 3, 5, 12, tzinfo=UTC), datetime(2026, 3, 10, 6, tzinfo=UTC)]}
    data = training_set({"p1": table}, failures)
    assert [u.unit for u in data.units] == ["p1#0@3", "p1#1@4"]
    assert [len(u.time) for u in data.units] == [3, 4]
    np.testing.assert_allclose(data.units[1].features[:, 0], [4, 5, 6, 7])
    np.testing.assert_allclose(data.rul_days[0], [2.5, 1.5, 0.5])
    np.testing.assert_allclose(data.rul_days[1], [3.25, 2.25, 1.25, 0.25])
    # Cut into chunks of at most 2 days, counted back from each failure; each chunk's time starts at 0.
    chunks = training_set({"p1": table}, failures, lookback_days=2)
    assert [u.unit for u in chunks.units] == ["p1#0@3", "p1#0@1", "p1#1@4", "p1#1@2"]
    assert [u.time.tolist() for u in chunks.units] == [[0, 1], [0], [0, 1], [0, 1]]
    np.testing.assert_allclose(chunks.units[2].features[:, 0], [6, 7])
    np.testing.assert_allclose(np.concatenate(chunks.rul_days), [1.5, 0.5, 2.5, 1.25, 0.25, 3.25, 2.25])


def test_observed_coverage_counts_resolved_forecasts_once_per_asset_and_day() -> None:
    def forecast(asset: str, at: datetime, p10: float, p90: float) -> Forecast:
        return Forecast(asset, at, 50.0, (p10 + p90) / 2, "", "rul-pump", rul_p10_days=p10, rul_p90_days=p90)

    failures = {"a": [T0 + timedelta(days=20)]}
    forecasts = [forecast("a", T0, 10, 30),  # life 20: covered
                 forecast("a", T0 + timedelta(hours=1), 0, 1),  # same day: not counted again
                 forecast("a", T0 + timedelta(days=1), 1, 5),  # life 19 > P90: a miss
                 forecast("b", T0, 1, 5),  # survived 30 days > P90 5: a miss
                 forecast("b", T0 + timedelta(days=28), 1, 5)]  # 2 days later, still open: left out
    coverage = observed_coverage(forecasts, failures, until=T0 + timedelta(days=30))
    assert (coverage.resolved, coverage.covered) == (3, 1)
    assert coverage.share == pytest.approx(1 / 3)


def test_train_all_stores_an_active_model_for_a_kind_with_enough_failures(db: Database) -> None:
    store = SqliteTelemetryStore(":memory:")  # type: ignore[arg-type]
    pumps = fleet(20, seed=4, kinds=[AssetKind.PUMP])
    db.assets.upsert_site(Site("fleet-res", "Residential"))
    db.assets.upsert_site(Site("fleet-office", "Office"))
    for pump in pumps:
        db.assets.upsert_asset(pump)
    failed = 0
    for pump in pumps:
        run = simulate_into(store, pump, 4, T0, 150, timedelta(hours=3))
        if run.failure_at is not None:
            failed += 1
            made, _ = db.work_orders.create(WorkOrderKind.CORRECTIVE, WorkOrderPriority.URGENT, "bearing seized",
                                            pump.site_id, pump.id, run.failure_at, run.failure_at)
            db.work_orders.change(made.id, S.REQUESTED, run.failure_at, "tech", to_status=S.COMPLETED,
                                  failure_code="bearing", completed_at=run.failure_at)
    now = T0 + timedelta(days=151)
    db.forecasts.add(Forecast(pumps[0].id, T0, 80.0, 50.0, "", "prior-pump", rul_p10_days=1.0, rul_p90_days=2.0))

    report = train_all(db, store, now, timedelta(days=160), model_params={"max_iter": 50})

    pump = report["kinds"]["pump"]
    assert pump["trained"]
    assert pump["failures"] == failed >= 5
    assert pump["observed_coverage"] == {"nominal": 0.8, "share": 0.0, "resolved": 1}
    assert report["kinds"]["elevator"]["trained"] is False
    stored = db.models.active("rul-pump")
    assert stored is not None
    assert stored.version == pump["version"] == 1
    assert stored.format == "skops"
    assert (stored.window_start, stored.window_end) == (now - timedelta(days=160), now)
    assert stored.metrics["failures"] == failed
    # The predictor loads the stored model (skops, allow-listed types) and forecasts with it.
    service = Predictor(store, db, EventBus(), ManualClock(T0 + timedelta(days=40)))
    forecast = service.forecast(pumps[0], T0 + timedelta(days=40), service.active_model(AssetKind.PUMP))
    assert forecast is not None
    assert (forecast.model, forecast.model_version) == ("rul-pump", "1")
    assert forecast.rul_p10_days <= forecast.rul_days <= forecast.rul_p90_days  # type: ignore[operator]
    assert stored.metrics["units"] >= failed  # runs longer than 30 days are cut into 30-day chunks
    assert stored.metrics["observed_coverage_p10_p90"] == 0.0


def test_features_some_rows_lack_are_left_out_of_training() -> None:
    days = [date(2026, 3, 2) + timedelta(days=i) for i in range(5)]
    table = build_table(AssetKind.LIGHTING, {"driver_temp_c.max": dict.fromkeys(days, 60.0),
                                             "burn_hours.value": dict.fromkeys(days, 1_000.0)})
    data = training_set({"l1": table}, {"l1": [datetime(2026, 3, 8, tzinfo=UTC)]}).complete_columns()
    assert data.names == ("driver_temp_c.max", "driver_temp_c.trend_per_week", "burn_hours.value")
    assert data.units[0].features.shape == (5, 3)
