"""The pure core of a simulator run: every device stepped on a regular event-time schedule, with faults."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.domain import Asset, AssetKind, Reading
from core.zones import UTC_ZONE, site_zone
from simulators.device import DeviceModel, stable_fraction, unit_rng
from simulators.elevator import Elevator
from simulators.lighting import Lighting
from simulators.portfolio import Portfolio
from simulators.pump import Pump
from simulators.scenario import SENSOR_FAULTS, Scenario
from simulators.sensors import SensorFaults

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
    sensors: SensorFaults
    seq: int = 0
    held: Reading | None = None  # out_of_order: a report waiting to go out after the next one


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
        self._zones = {site.id: site_zone(site) for site in portfolio.sites}
        self._units = [self._unit(asset, seed) for asset in portfolio.assets]
        self._by_id = {unit.asset.id: unit for unit in self._units}

    def _unit(self, asset: Asset, seed: int) -> _Unit:
        model, rng = make_device(asset, seed)
        model.zone = self._zones.get(asset.site_id, UTC_ZONE)
        interval = timedelta(seconds=asset.report_interval_s)
        first = self.start + timedelta(seconds=round(stable_fraction(seed, asset.id) * asset.report_interval_s, 3))
        sensors = SensorFaults(asset.kind, unit_rng(seed, f"sensor:{asset.id}"))
        return _Unit(asset, model, rng, interval, first, first - interval, sensors)

    def due(self, now: datetime) -> list[Reading]:
        """Step every device whose next report is at or before ``now``; readings sorted by time."""
        released: list[tuple[datetime, Reading]] = []  # (when the device sends it, reading)
        for unit in self._units:
            self._skip_backlog(unit, now)
            for _ in range(self.max_catch_up):
                if unit.next_at > now:
                    break
                at = unit.next_at
                reading = self._step(unit)
                active = self.scenario.active(unit.asset, at - self.start)
                if "offline" not in active:
                    released.extend((at, sent) for sent in self._transport(unit, reading, active))
        released.sort(key=lambda item: item[0])  # stable: a swapped or repeated pair keeps its order
        return [reading for _, reading in released]

    @staticmethod
    def _transport(unit: _Unit, reading: Reading, active: dict[str, float]) -> list[Reading]:
        """What the device actually sends for ``reading``: twice (duplicate), swapped with the next report
        (out_of_order), or as is."""
        if "out_of_order" in active:
            if unit.held is None:
                unit.held = reading
                return []
            held, unit.held = unit.held, None
            return [reading, held]
        out = [] if unit.held is None else [unit.held]
        unit.held = None
        out.append(reading)
        if "duplicate" in active:
            out.append(reading)
        return out

    def service(self, asset_id: str) -> None:
        """Completed maintenance on ``asset_id``: its model renews the serviced component (KeyError if unknown)."""
        self._by_id[asset_id].model.service()

    def health(self) -> dict[str, float]:
        """Each asset's wear now (0 new .. 1 failed): the ground truth behind the condition signals."""
        return {unit.asset.id: unit.model.health() for unit in self._units}

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
        active = self.scenario.active_faults(unit.asset, at - self.start)
        machine = {fault.name: elapsed for fault, elapsed in active if fault.name not in SENSOR_FAULTS}
        metrics = unit.model.step(at, (at - unit.last_at).total_seconds(), unit.rng, machine)
        metrics = unit.sensors.apply(metrics, active)
        skew = sum(fault.magnitude for fault, _ in active if fault.name == "clock_skew")
        unit.seq += 1
        unit.last_at, unit.next_at = at, at + unit.interval
        return Reading(unit.asset.site_id, unit.asset.kind, unit.asset.id, at + timedelta(seconds=skew), metrics,
                       unit.seq)

    def _skip_backlog(self, unit: _Unit, now: datetime) -> None:
        missed = (now - unit.next_at) // unit.interval
        if missed > MAX_BACKLOG:
            # Too far behind to replay (the clock jumped days): resume near now, one long step bridges the gap.
            log.warning("simulated %s skips %d report intervals", unit.asset.id, missed - self.max_catch_up)
            unit.next_at += unit.interval * (missed - self.max_catch_up)
            unit.seq += missed - self.max_catch_up
