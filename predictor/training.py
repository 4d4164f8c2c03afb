"""Training the learned RUL model per asset kind from fleet history, and the interval coverage seen since.

Failures come from the work orders: a completed corrective or emergency order with a failure code marks a
failure of its asset at the time it was opened (when the failure was reported). Each failure closes a
run-to-failure unit: the asset's daily feature rows after its previous failure (a repair renews it) and before
this one, each labelled with the days from the end of its day to the failure. Assets that did not fail in the
window are left out (the model learns from complete runs only; see docs/predictor.md, "Limits").

``train_kind`` fits ``RulModel`` on those units and stores it as the next ``ModelRecord`` version of
``rul-<kind>`` with its window and validation metrics, active. ``observed_coverage`` checks stored forecasts'
P10-P90 intervals against what happened since, so a drifting model shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from core.domain import AssetKind, Forecast, ModelRecord, WorkOrder, WorkOrderKind, WorkOrderStatus
from predictor.forecasting import LOOKBACK_DAYS, model_name
from predictor.rul import RulModel, UnitSeries
from predictor.telemetry_features import DailyFeatures, FloatArray, daily_features
from storage.records.work_orders import WorkOrderFilter

if TYPE_CHECKING:
    from storage.records import Database
    from storage.telemetry import TelemetryStore

MIN_FAILURES = 5  # fewer complete runs than this train no model: the prior stays in use
MIN_UNITS = 4  # RulModel holds some units out for calibration
FAILURE_KINDS = (WorkOrderKind.CORRECTIVE, WorkOrderKind.EMERGENCY)
DONE = (WorkOrderStatus.COMPLETED, WorkOrderStatus.VERIFIED, WorkOrderStatus.FOLLOWED_UP, WorkOrderStatus.CLOSED)
MODEL_FORMAT = "skops"
# Efficiency drift is measured against the first week of the table read: the training table starts years
# back, a forecast's 30 days back, so the same pump would show different values. Health uses it; the model not.
WINDOW_RELATIVE = frozenset({"efficiency.drift_pct"})


@dataclass(frozen=True, slots=True)
class TrainingSet:
    units: list[UnitSeries]
    rul_days: list[FloatArray]  # per unit, one per row
    names: tuple[str, ...] = ()  # the feature columns of ``units``

    @property
    def rows(self) -> int:
        return sum(len(r) for r in self.rul_days)

    def complete_columns(self) -> TrainingSet:
        """The set restricted to the features every row has (a metric some assets never report, such as a
        light sensor, is left out rather than imputed) and that do not depend on where the table starts
        (``WINDOW_RELATIVE``); the model is trained on these names only."""
        if not self.units:
            return self
        stacked = np.vstack([u.features for u in self.units])
        keep = [j for j in range(stacked.shape[1])
                if np.isfinite(stacked[:, j]).all() and self.names[j] not in WINDOW_RELATIVE]
        units = [UnitSeries(u.unit, u.time, u.features[:, keep]) for u in self.units]
        return TrainingSet(units, self.rul_days, tuple(self.names[j] for j in keep))


@dataclass(frozen=True, slots=True)
class Coverage:
    """Stored forecasts whose outcome is known, and how many had it inside their P10-P90 interval."""

    resolved: int
    covered: int

    @property
    def share(self) -> float | None:
        return self.covered / self.resolved if self.resolved else None


def failure_times(orders: Iterable[WorkOrder]) -> dict[str, list[datetime]]:
    """Per asset, the sorted times of its failures: done corrective/emergency orders with a failure code."""
    failures: dict[str, list[datetime]] = {}
    for order in orders:
        if (order.kind in FAILURE_KINDS and order.status in DONE and order.failure_code
                and order.asset_id is not None):
            failures.setdefault(order.asset_id, []).append(order.opened_at)
    return {asset: sorted(times) for asset, times in failures.items()}


def training_set(tables: Mapping[str, DailyFeatures], failures: Mapping[str, Sequence[datetime]],
                 lookback_days: int = LOOKBACK_DAYS) -> TrainingSet:
    """Run-to-failure units from each asset's daily table and its failure times (pure).

    A run (the rows between a renewal and the failure) is cut into consecutive chunks of ``lookback_days``
    rows, counted back from the failure: a forecast sees at most that many days (the service's history),
    so each training unit looks like what a forecast sees, its age included. Chunks do not overlap, so no
    row is counted twice and a validation split by unit does not see the same row on both sides.
    """
    units: list[UnitSeries] = []
    rul: list[FloatArray] = []
    names: tuple[str, ...] = ()
    for asset_id, table in tables.items():
        names = table.names
        for number, rows in enumerate(_runs(table, failures.get(asset_id, ()))):
            failed_at = failures[asset_id][number]
            for end in range(len(rows), 0, -lookback_days):
                chunk = rows[max(0, end - lookback_days): end]
                days = [table.days[i] for i in chunk]
                time_d = np.array([(day - days[0]).days for day in days], dtype=np.float64)
                units.append(UnitSeries(f"{asset_id}#{number}@{end}", time_d, table.values[chunk]))
                rul.append(np.array([(failed_at - _day_end(day)).total_seconds() / 86_400 for day in days]))
    return TrainingSet(units, rul, names)


def _runs(table: DailyFeatures, failures: Sequence[datetime]) -> list[list[int]]:
    """Per failure, the row indices after the previous failure (a repair renews the asset) whose day ended
    before it."""
    runs: list[list[int]] = []
    previous: date | None = None
    for failed_at in failures:
        runs.append([i for i, day in enumerate(table.days)
                     if (previous is None or day > previous) and _day_end(day) <= failed_at])
        previous = failed_at.astimezone(UTC).date()
    return runs


def observed_coverage(forecasts: Iterable[Forecast], failures: Mapping[str, Sequence[datetime]],
                      until: datetime) -> Coverage:
    """How often the real remaining life fell inside P10-P90, over forecasts whose outcome is known at ``until``.

    One forecast per asset and day counts (the first). Known: the asset failed after the forecast (its life
    is then known), or it survived past P90 (a miss, whenever it fails). Otherwise it is still open and left out.
    """
    resolved = covered = 0
    seen: set[tuple[str, date]] = set()
    for forecast in forecasts:
        key = (forecast.asset_id, forecast.at.astimezone(UTC).date())
        if key in seen or forecast.rul_p10_days is None or forecast.rul_p90_days is None:
            continue
        seen.add(key)
        later = [t for t in failures.get(forecast.asset_id, ()) if forecast.at <= t < until]
        if later:
            life = (later[0] - forecast.at).total_seconds() / 86_400
            resolved, covered = resolved + 1, covered + (forecast.rul_p10_days <= life <= forecast.rul_p90_days)
        elif (until - forecast.at).total_seconds() / 86_400 > forecast.rul_p90_days:
            resolved += 1
    return Coverage(resolved, covered)


def train_kind(db: Database, store: TelemetryStore, kind: AssetKind, since: datetime, until: datetime,
               now: datetime, failures: Mapping[str, Sequence[datetime]], coverage: Coverage, *,
               random_state: int = 0, model_params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Train, store and activate the kind's model on ``[since, until)``; a summary (JSON-safe).

    ``failures`` are the fleet's failure times, ``coverage`` the kind's observed coverage (both from
    ``train_all``). The summary says ``trained: false`` and why when there are too few complete runs; the
    stored model then stays as it was. ``model_params`` go to ``RulModel`` (e.g. ``max_iter``).
    """
    assets = [a for a in db.assets.list() if a.kind is kind]
    tables = {a.id: daily_features(store, a, since, until) for a in assets if a.id in failures}
    data = training_set(tables, failures).complete_columns()
    runs = sum(len(failures[a]) for a in tables)
    summary: dict[str, Any] = {"kind": kind.value, "assets": len(assets), "failures": runs,
                               "units": len(data.units), "rows": data.rows,
                               "window": [since.isoformat(), until.isoformat()]}
    if runs < MIN_FAILURES or len(data.units) < MIN_UNITS:
        return {**summary, "trained": False, "reason": f"fewer than {MIN_FAILURES} complete runs to failure"}
    model = RulModel(data.names, random_state=random_state, **(model_params or {})).fit(data.units, data.rul_days)
    metrics = {**_floats(model.validation_), "failures": float(runs), "units": float(len(data.units)),
               "rows": float(data.rows), "features": float(len(data.names)),
               "observed_resolved": float(coverage.resolved)}
    if coverage.share is not None:
        metrics["observed_coverage_p10_p90"] = coverage.share
    record = db.models.add(ModelRecord(model_name(kind), 0, now, since, until, metrics, MODEL_FORMAT,
                                       model.to_bytes(), active=True))
    return {**summary, "trained": True, "model": record.name, "version": record.version, "metrics": metrics}


def completed_orders(db: Database, since: datetime, until: datetime) -> list[WorkOrder]:
    """The failure-bearing orders opened in ``[since, until)``, every page of them."""
    orders: list[WorkOrder] = []
    for kind in FAILURE_KINDS:
        where = WorkOrderFilter(kind=kind, statuses=DONE, opened_since=since, opened_until=until)
        page, cursor = db.work_orders.page(where, limit=500)
        orders.extend(page)
        while cursor is not None:
            page, cursor = db.work_orders.page(where, limit=500, after=cursor)
            orders.extend(page)
    return orders


def _day_end(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)


def _floats(values: Mapping[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in values.items() if isinstance(v, int | float) and not isinstance(v, bool)}


def train_all(db: Database, store: TelemetryStore, now: datetime, history: timedelta,
              kinds: Sequence[AssetKind] = tuple(AssetKind), *, random_state: int = 0,
              model_params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Train every kind on the ``history`` before ``now``; one JSON object with a summary per kind.

    Each kind's summary carries ``observed_coverage``: the share of its resolved stored forecasts (of any
    model) whose P10-P90 held the real remaining life, and the count it is computed over (null when none is
    resolved yet).
    """
    since = now - history
    failures = failure_times(completed_orders(db, since, now))
    kind_of = {a.id: a.kind for a in db.assets.list()}
    forecasts = db.forecasts.with_intervals(since, now)
    out: dict[str, Any] = {"at": now.isoformat(), "kinds": {}}
    for kind in kinds:
        coverage = observed_coverage((f for f in forecasts if kind_of.get(f.asset_id) is kind), failures, now)
        summary = train_kind(db, store, kind, since, now, now, failures, coverage, random_state=random_state,
                             model_params=model_params)
        summary["observed_coverage"] = {"nominal": 0.8, "share": coverage.share, "resolved": coverage.resolved}
        out["kinds"][kind.value] = summary
    return out
