"""A traction elevator: trips by time of day, door-operator wear with door cycles, entrapments."""

from __future__ import annotations

import random
from datetime import datetime

from core.domain import Asset, AssetKind
from simulators.demand import RESIDENTIAL, activity
from simulators.device import (
    NO_FAULTS,
    DeviceModel,
    Faults,
    Metrics,
    age_years,
    attribute,
    initial_wear,
    jitter,
    poisson,
)

TRIP_S = 25.0  # a typical journey, doors included
PERSON_KG = 75.0
DOOR_FAILED_S = 8.0  # a door operator this slow is worn out (the door-fault rule's limit)


class Elevator(DeviceModel):
    """Physics, per report:

    - Trips arrive as a Poisson stream whose rate follows the building's activity (0.05-1.45 a minute);
      each trip cycles the doors once, plus an occasional reopening.
    - The door operator wears with door cycles since its last adjustment: door_close_s = base + wear.
    - A snapshot of the car: moving (motor current with load) or idle, occupied, floor, leveling error.
    """

    kind = AssetKind.ELEVATOR

    def __init__(self, asset: Asset, rng: random.Random) -> None:
        super().__init__(asset, rng)
        self.usage = str(asset.attributes.get("usage", RESIDENTIAL))
        self.floors = max(2, int(attribute(asset, "floors", 12)))
        self.rated_kg = attribute(asset, "rated_load_kg", 1000.0)
        self.door_base_s = rng.uniform(2.7, 3.1)
        self.door_wear_s = rng.uniform(0.4, 0.8)  # seconds added per 100,000 door cycles
        # Door-operator wear: the fraction of the way from a fresh operator to DOOR_FAILED_S.
        self.cycles_to_fail = (DOOR_FAILED_S - self.door_base_s) / self.door_wear_s * 1e5
        self.cycles_since_service = initial_wear(asset, rng, 0, 40_000 / self.cycles_to_fail) * self.cycles_to_fail
        self.leveling_bias_mm = rng.uniform(-1.0, 1.0)
        self.vibration0 = rng.uniform(0.3, 0.6)
        self.trips_per_year = rng.uniform(80_000, 150_000)
        self.trips = -1.0  # set from the age on the first step
        self.door_cycles = 0.0
        self.floor = 0
        self.door_close_s = self.door_base_s
        self.trapped_kg: float | None = None

    def health(self) -> float:
        return self.cycles_since_service / self.cycles_to_fail

    def service(self) -> None:
        self.cycles_since_service = 0.0  # door operator adjusted, rollers and belt replaced

    def step(self, at: datetime, dt_s: float, rng: random.Random, faults: Faults = NO_FAULTS) -> Metrics:
        if self.trips < 0:
            self.trips = float(round(age_years(self.asset, at) * self.trips_per_year))
            self.door_cycles = round(self.trips * 1.08)
        if "power_cut" in faults:
            self.trapped_kg = None
            return self._stopped(rng, mains=False, trapped=False)
        if "entrapment" in faults:
            if self.trapped_kg is None:
                self.trapped_kg = PERSON_KG * (1 + poisson(rng, 0.5)) + rng.uniform(-10, 10)
            return self._stopped(rng, mains=True, trapped=True)
        self.trapped_kg = None
        if "out_of_service" in faults:  # a safety circuit opened: parked at a landing, doors open, empty
            return self._stopped(rng, mains=True, trapped=False)
        metrics = self._in_service(at, dt_s, rng, door_fault="door_fault" in faults)
        if "motor_overcurrent" in faults:  # a dragging brake: the drive fights it on every run
            metrics["motor_current_a"] = round(rng.uniform(66.0, 85.0), 2)
        if "leveling_fault" in faults:  # worn brake lining or a slipping encoder: stops land off the sill
            metrics["leveling_error_mm"] = round(rng.choice((-1, 1)) * rng.uniform(25.0, 45.0), 2)
        return metrics

    def _in_service(self, at: datetime, dt_s: float, rng: random.Random, door_fault: bool) -> Metrics:
        busy = activity(self.usage, self.local(at))
        rate_per_min = 0.05 + 1.4 * busy
        trips = poisson(rng, rate_per_min * dt_s / 60)
        reopen_p = 0.02 + 0.15 * busy
        reopenings = 8 + int(rng.random() * 8) if door_fault else sum(rng.random() < reopen_p for _ in range(2))
        cycles = trips + reopenings + poisson(rng, 0.05 * trips)
        self.trips += trips
        self.door_cycles += cycles
        self.cycles_since_service += cycles
        if door_fault:
            self.door_close_s = rng.uniform(9.5, 13.0)
        elif cycles or self.door_close_s > 5:  # a new cycle measured, or the first one after a door repair
            self.door_close_s = self._door_close_healthy() + jitter(rng, 0.06)
        if trips:
            self.floor = 0 if rng.random() < 0.4 else rng.randrange(self.floors)
        moving = rng.random() < min(0.9, rate_per_min * TRIP_S / 60)
        occupied = moving or rng.random() < 0.05 * busy
        passengers = 1 + poisson(rng, 2 * busy)
        load = min(0.8 * self.rated_kg, PERSON_KG * passengers + rng.uniform(-15, 15)) if occupied else 0.0
        current = 18 + 25 * load / self.rated_kg + jitter(rng, 0.5) if moving else 2.5 + jitter(rng, 0.1)
        vibration = self.vibration0 + 0.5 + jitter(rng, 0.08) if moving else 0.25 + jitter(rng, 0.015)
        return self._report(in_service=True, mains=True, occupied=occupied, alarm=False, load_kg=load,
                            current_a=current, vibration=vibration, reopenings=reopenings,
                            leveling=self.leveling_bias_mm + jitter(rng, 1.0))

    def _door_close_healthy(self) -> float:
        return self.door_base_s + self.door_wear_s * self.cycles_since_service / 1e5

    def _stopped(self, rng: random.Random, mains: bool, trapped: bool) -> Metrics:
        # Out of service; a trapped passenger presses the alarm button.
        return self._report(in_service=False, mains=mains, occupied=trapped, alarm=trapped,
                            load_kg=self.trapped_kg or 0.0, current_a=0.0, vibration=0.05 + jitter(rng, 0.01),
                            reopenings=0, leveling=self.leveling_bias_mm)

    def _report(self, *, in_service: bool, mains: bool, occupied: bool, alarm: bool, load_kg: float,
                current_a: float, vibration: float, reopenings: int, leveling: float) -> Metrics:
        return {
            "trips": self.trips,
            "door_cycles": self.door_cycles,
            "door_close_s": round(self.door_close_s, 3),
            "door_reopenings": float(reopenings),
            "motor_current_a": round(max(0.0, current_a), 2),
            "car_vibration_mm_s": round(max(0.0, vibration), 3),
            "leveling_error_mm": round(leveling, 2),
            "floor": float(self.floor),
            "load_kg": round(max(0.0, load_kg), 1),
            "occupied": occupied,
            "alarm_button": alarm,
            "in_service": in_service,
            "mains_ok": mains,
        }
