"""Simulated assets written into a real telemetry store: ground truth (failure time, injected fault) for tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core.domain import Asset, Reading
from simulators.simulation import make_device
from storage.telemetry import TelemetryStore


@dataclass(frozen=True, slots=True)
class SimulatedRun:
    asset: Asset
    start: datetime
    end: datetime  # the last step written
    failure_at: datetime | None  # the step at which the model failed (wear >= 1), None if it survived
    readings: list[Reading]


def simulate_into(store: TelemetryStore | None, asset: Asset, seed: int, start: datetime, days: float,
                  step: timedelta, fault: str | None = None, fault_from: datetime | None = None,
                  fault_until: datetime | None = None) -> SimulatedRun:
    """Step the asset's simulator model from ``start`` for ``days`` (or until it fails), with ``fault`` active
    from ``fault_from`` (until ``fault_until``, if given); every report is written to ``store`` (if given) and
    returned."""
    model, rng = make_device(asset, seed)
    at, until = start, start + timedelta(days=days)
    readings: list[Reading] = []
    failure_at = None
    while at < until:
        at += step
        faults: dict[str, float] = {}
        if fault is not None and fault_from is not None and fault_from <= at < (fault_until or until):
            faults[fault] = (at - fault_from).total_seconds()
        metrics: dict[str, Any] = model.step(at, step.total_seconds(), rng, faults)
        readings.append(Reading(asset.site_id, asset.kind, asset.id, at, metrics))
        if model.failed:
            failure_at = at
            break
    if store is not None:
        store.write(readings)
    return SimulatedRun(asset, start, at, failure_at, readings)
