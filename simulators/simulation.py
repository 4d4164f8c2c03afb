"""The pure core of a simulator run: every device stepped on a regular event-time schedule, with faults."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.domain import Asset, AssetKind, Reading
from simulators.device import DeviceModel, stable_fraction, unit_rng
from simulators.elevator import Elevator
from simulators.lighting import Lighting
from simulators.portfolio import Portfolio
from simulators.pump import Pump
from simulators.scenario import Scenario

log = logging.getLogger(__name__)

MODELS: dict[AssetKind, type[DeviceModel]] = {
    AssetKind.ELEVATOR: Elevator,
    AssetKind.PUMP: Pump,
    AssetKind.LIGHTING: Lighting,
}
MAX_CATCH_UP = 10  # reports per device per call to ``due``: bounds the burst after a clock jump
MAX_BACKLOG = 1000  # report intervals; a device further behind skips ahead in one long step


def make_device(asset: Asset, seed: int) -> tuple[DeviceModel, random.Random]:
    """The model for ``asset`` and the generator that drives it, both fixed by (seed, asset id)."""
    rng = unit_rng(seed, asset.id)
    return MODELS[asset.kind](asset, rng), rng


@dataclass(slots=True)
class _Unit:
    asset: Asset
    model: DeviceModel
    rng: random.Random
    interval: timedelta
    next_at: datetime
    last_at: datetime
    seq: int = 0


class Simulation:
    """Steps each device at ``start + phase + k * report_interval`` (the phase, fixed by seed and asset,
    spreads the devices over their interval) and applies the scenario's faults.

    ``due(now)`` returns the readings whose time has come, at most ``max_catch_up`` per device per call,
    so after a jump of the clock the stream stays regular in event time and catches up over a few calls.
    Readings that fall while a device is ``offline`` are computed (the machine goes on) but not returned;
    their sequence numbers are used up, so a receiver sees the gap.
    """

    def __init__(self, portfolio: Portfolio, start: datetime, seed: int = 0, scenario: Scenario | None = None,
                 max_catch_up: int = MAX_CATCH_UP) -> None:
        self.start = start
        self.scenario = scenario or Scenario()
        self.scenario.check(portfolio)
        self.max_catch_up = max_catch_up
        self._units = [self._unit(asset, seed) for asset in portfolio.assets]

    def _unit(self, asset: Asset, seed: int) -> _Unit:
        model, rng = make_device(asset, seed)
        interval = timedelta(seconds=asset.report_interval_s)
        first = self.start + timedelta(seconds=round(stable_fraction(seed, asset.id) * asset.report_interval_s, 3))
        return _Unit(asset, model, rng, interval, first, first - interval)

    def due(self, now: datetime) -> list[Reading]:
        """Step every device whose next report is at or before ``now``; readings sorted by time."""
        readings: list[Reading] = []
        for unit in self._units:
            self._skip_backlog(unit, now)
            for _ in range(self.max_catch_up):
                if unit.next_at > now:
                    break
                reading = self._step(unit)
                if "offline" not in self.scenario.active(unit.asset, reading.at - self.start):
                    readings.append(reading)
        readings.sort(key=lambda reading: reading.at)
        return readings

    def next_due(self) -> datetime:
        """The earliest next report over all devices."""
        return min((unit.next_at for unit in self._units), default=self.start)

    def is_behind(self, now: datetime) -> bool:
        return self.next_due() <= now

    def offline(self, now: datetime) -> set[str]:
        """Ids of the assets whose ``offline`` fault is active at ``now``."""
        since = now - self.start
        return {unit.asset.id for unit in self._units if "offline" in self.scenario.active(unit.asset, since)}

    def _step(self, unit: _Unit) -> Reading:
        at = unit.next_at
        faults = self.scenario.active(unit.asset, at - self.start)
        metrics = unit.model.step(at, (at - unit.last_at).total_seconds(), unit.rng, faults)
        unit.seq += 1
        unit.last_at, unit.next_at = at, at + unit.interval
        return Reading(unit.asset.site_id, unit.asset.kind, unit.asset.id, at, metrics, unit.seq)

    def _skip_backlog(self, unit: _Unit, now: datetime) -> None:
        missed = (now - unit.next_at) // unit.interval
        if missed > MAX_BACKLOG:
            # Too far behind to replay (the clock jumped days): resume near now, one long step bridges the gap.
            log.warning("simulated %s skips %d report intervals", unit.asset.id, missed - self.max_catch_up)
            unit.next_at += unit.interval * (missed - self.max_catch_up)
            unit.seq += missed - self.max_catch_up
