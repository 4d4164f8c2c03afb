"""Shared helpers of the simulator tests: drive a model or a simulation over simulated time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.domain import Asset, AssetKind, Reading
from simulators.device import Faults, Metrics
from simulators.simulation import Simulation, make_device

MONDAY = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)


def run_model(asset: Asset, seed: int, start: datetime, until: datetime, step_s: float | None = None,
              faults: Faults | None = None) -> list[tuple[datetime, Metrics]]:
    """Step one model from ``start`` to ``until`` every ``step_s`` (default: its report interval)."""
    model, rng = make_device(asset, seed)
    step = timedelta(seconds=step_s or asset.report_interval_s)
    at, out = start, []
    while at < until:
        at += step
        out.append((at, model.step(at, step.total_seconds(), rng, faults or {})))
    return out


def run_simulation(simulation: Simulation, until: datetime, tick: timedelta = timedelta(minutes=1)) -> list[Reading]:
    """Move a simulation's clock in ``tick`` steps until ``until``; every reading it produces."""
    now, readings = simulation.start, []
    while now < until:
        now = min(now + tick, until)
        readings.extend(simulation.due(now))
    while simulation.is_behind(until):
        readings.extend(simulation.due(until))
    return readings


def asset(kind: AssetKind, asset_id: str = "", site_id: str = "s1", **attributes: str | float | bool) -> Asset:
    interval = 300.0 if kind is AssetKind.LIGHTING else 60.0
    return Asset(asset_id or f"{site_id}-{kind.value}-1", site_id, kind, asset_id or kind.value,
                 report_interval_s=interval, attributes=dict(attributes))
